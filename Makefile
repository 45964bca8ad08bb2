# ngx_posthog_module
#
#   make                 the dynamic module for the installed nginx (Debian's
#                        nginx-dev tree in /usr/share/nginx/src), and the shipper
#   make NGINX_SRC=DIR   the module and an nginx binary from an nginx.org tree
#   make test            everything, then the test suite (prove -r t/)
#   make test-asan       the nginx tests on nginx + module built with ASan/UBSan
#   make test-static     the nginx tests on nginx built with --add-module
#   make demo            the whole pipeline on local defaults
#   make deps            the Debian packages needed (idempotent)
#   make deb             Debian packages (debian/) into build/deb/, lintian
#   make test-deb        install them, test the installed pipeline, purge

PH_BUILD   ?= $(CURDIR)/build
NGINX_SRC  ?=
# our own files are held to -Wall -Wextra -Werror; nginx adds its own flags
PH_CC_OPT  ?= -Wall -Wextra -Werror -g -O2
NGINX_CONFIGURE_EXTRA ?=

MODULE      = $(PH_BUILD)/ngx_http_posthog_module.so
SHIPPER     = $(PH_BUILD)/posthog-shipper
MODULE_SRCS = config $(wildcard ngx_posthog_module/*.c ngx_posthog_module/*.h)

ifeq ($(NGINX_SRC),)
# Debian: configure a copy of nginx-dev's tree with the flags the packaged
# nginx was built with, so that the module's binary signature matches it.
NGX_TREE    = $(PH_BUILD)/nginx-src
NGX_ORIGIN  = /usr/share/nginx/src
NGINX_BIN  ?= /usr/sbin/nginx
else
NGX_TREE    = $(NGINX_SRC)
NGINX_BIN  ?= $(PH_BUILD)/objs/nginx
endif

NGX_OBJS    = $(PH_BUILD)/objs
# nginx's configure is given the build directory relative to the tree: it
# turns the ".S" of an absolute path like /tmp/tmp.Sx3/build/objs into the
# ".o" of an assembler source and breaks the module's object names
NGX_OBJS_REL = $(shell realpath -m --relative-to=$(NGX_TREE) $(NGX_OBJS))

export PH_BUILD NGINX_BIN

.PHONY: FORCE all module shipper posthog-core test test-asan deps demo bench bench-guard fuzz fuzz-run \
        test-static unit clean install deb test-deb

all: module shipper

deps:
	@sh .ci/deps

module: $(MODULE)

# reconfigure when the flags or the tree change, not only when config does
PH_FLAGS_STAMP = $(PH_BUILD)/configure.flags
PH_FLAGS = $(NGX_TREE) $(PH_CC_OPT) $(NGINX_CONFIGURE_EXTRA)

$(PH_FLAGS_STAMP): FORCE
	@mkdir -p $(PH_BUILD)
	@echo '$(PH_FLAGS)' | cmp -s - $@ || echo '$(PH_FLAGS)' > $@

FORCE:

$(NGX_OBJS)/Makefile: config $(PH_FLAGS_STAMP) | deps
	@mkdir -p $(PH_BUILD)
ifeq ($(NGINX_SRC),)
	rm -rf $(NGX_TREE) && cp -r $(NGX_ORIGIN) $(NGX_TREE)
	cd $(NGX_TREE) && bash -c '. ./conf_flags && ./configure \
	    "$${NGX_CONF_FLAGS[@]}" --with-cc-opt="$(PH_CC_OPT)" \
	    --builddir=$(NGX_OBJS_REL) --add-dynamic-module=$(CURDIR) \
	    $(NGINX_CONFIGURE_EXTRA)' > $(PH_BUILD)/configure.log \
	    || { tail -20 $(PH_BUILD)/configure.log; exit 1; }
else
	cd $(NGX_TREE) && ./configure --with-compat --with-http_ssl_module \
	    --with-http_realip_module --with-http_auth_request_module \
	    --with-debug --with-cc-opt="$(PH_CC_OPT)" \
	    --builddir=$(NGX_OBJS_REL) --add-dynamic-module=$(CURDIR) \
	    $(NGINX_CONFIGURE_EXTRA) > $(PH_BUILD)/configure.log \
	    || { tail -20 $(PH_BUILD)/configure.log; exit 1; }
endif

$(MODULE): $(NGX_OBJS)/Makefile $(MODULE_SRCS)
ifeq ($(NGINX_SRC),)
	cd $(NGX_TREE) && $(MAKE) -f $(NGX_OBJS_REL)/Makefile modules
else
	cd $(NGX_TREE) && $(MAKE) -f $(NGX_OBJS_REL)/Makefile
endif
	# a new file, not the old one rewritten: a running nginx maps it
	cp $(NGX_OBJS)/ngx_http_posthog_module.so $(MODULE).new
	mv -f $(MODULE).new $(MODULE)

shipper: | deps
	$(MAKE) -C shipper PH_BUILD=$(PH_BUILD)

include t/unit/Makefile.inc

# posthog-js's own user-agent code, for t/unit/ua-posthog-js.t (from the
# npm registry, a pinned version)
POSTHOG_CORE_VERSION = 1.67.3
POSTHOG_CORE = $(PH_BUILD)/node/node_modules/@posthog/core

posthog-core: $(POSTHOG_CORE)/package.json

$(POSTHOG_CORE)/package.json:
	npm install --prefix $(PH_BUILD)/node --no-audit --no-fund \
	    --loglevel=error @posthog/core@$(POSTHOG_CORE_VERSION)

test: all unit fuzz posthog-core
	PH_POSTHOG_CORE=$(POSTHOG_CORE) prove -r t/

# nginx and the module built with AddressSanitizer and UBSan from the
# nginx.org source of the installed version; the nginx tests run on it and
# fail on any sanitizer report in error.log (see t/lib/PHTest.pm).
# Dynamic modules define ngx_module_names too: an ODR report by design.
# A small quarantine keeps the memory-bound tests meaningful.  The poll
# module is built in so that t/capture/15-poll.t runs here (Debian's nginx
# has epoll only).
ASAN_BUILD = $(CURDIR)/build/asan
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer

test-asan: shipper
	$(MAKE) module PH_BUILD=$(ASAN_BUILD) \
	    NGINX_SRC=$$(PH_BUILD=$(ASAN_BUILD) sh .ci/nginx-src) \
	    PH_CC_OPT="-Wall -Wextra -Werror -g -O1 $(ASAN_FLAGS)" \
	    NGINX_CONFIGURE_EXTRA="--with-poll_module --with-ld-opt='$(ASAN_FLAGS)'"
	ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0:quarantine_size_mb=1 \
	UBSAN_OPTIONS=print_stacktrace=1:suppressions=$(CURDIR)/.ci/ubsan.supp \
	PH_BUILD=$(ASAN_BUILD) NGINX_BIN=$(ASAN_BUILD)/objs/nginx \
	PH_SHIPPER=$(SHIPPER) PH_REQUIRE_POLL=1 prove -r t/identity t/capture t/e2e

# The module linked into nginx (--add-module) instead of loaded: the same
# nginx.org tree as test-asan, the nginx tests on it.
STATIC_BUILD = $(CURDIR)/build/static

test-static: shipper
	src=$$(PH_BUILD=$(ASAN_BUILD) sh .ci/nginx-src) \
	    && objs=$$(realpath -m --relative-to=$$src $(STATIC_BUILD)/objs) \
	    && cd $$src \
	    && ./configure --with-http_ssl_module --with-http_realip_module \
	        --with-http_auth_request_module --with-cc-opt="$(PH_CC_OPT)" \
	        --builddir=$$objs --add-module=$(CURDIR) \
	        > $(STATIC_BUILD).log \
	        || { tail -20 $(STATIC_BUILD).log; exit 1; } \
	    && $(MAKE) -f $$objs/Makefile
	PH_MODULE=static NGINX_BIN=$(STATIC_BUILD)/objs/nginx \
	PH_SHIPPER=$(SHIPPER) prove -r t/identity t/capture t/e2e

demo: all
	sh docs/demo/run.sh

bench: all
	sh bench/run.sh

# the callgrind part of the bench against bench/limits (CI runs it)
bench-guard: all
	sh bench/guard.sh

# Debian's layout: the module, and a snippet for modules-enabled/
install: all
	install -D -m 0644 $(MODULE) \
	    $(DESTDIR)/usr/lib/nginx/modules/ngx_http_posthog_module.so
	mkdir -p $(DESTDIR)/usr/share/nginx/modules-available
	echo 'load_module modules/ngx_http_posthog_module.so;' \
	    > $(DESTDIR)/usr/share/nginx/modules-available/mod-http-posthog.conf
	$(MAKE) -C shipper PH_BUILD=$(PH_BUILD) install

# Debian packages, built from a copy of the tree in build/deb/src so that
# dpkg-buildpackage's output (written to the parent directory) lands in
# build/deb/ and nothing is written into the tree.  The outer make's
# variables are not passed down to debian/rules.
DEB_DIR = $(CURDIR)/build/deb

deb: | deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	tar -c --exclude=./build --exclude=./.git --exclude='./t/servroot*' \
	    --exclude=./t/tmp --exclude=./bench/out -f - . \
	    | tar -x -C $(DEB_DIR)/src -f -
	cd $(DEB_DIR)/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    -u PH_BUILD -u NGINX_BIN dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(DEB_DIR)/*.changes

# Installs the packages on this machine (as root), tests them and
# purges them: not part of make test.
test-deb: deb
	PH_TEST_DEB=1 PH_DEB_DIR=$(DEB_DIR) prove -v t/deb/

clean:
	rm -rf $(PH_BUILD)
