/*
 * --output FILE|-: each batch body as one line, instead of a POST. For a
 * dry run, or for a pipeline of one's own. The file is opened for append
 * and opened again on SIGHUP (log rotation).
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sys/uio.h>

#include "shipper.h"


/* opens path ("-": stdout) into *fd, closing the file *fd held before */

int
ph_output_open(const char *path, int *fd)
{
    int  nfd;

    if (strcmp(path, "-") == 0) {
        *fd = STDOUT_FILENO;
        return 0;
    }

    nfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (nfd < 0) {
        ph_log(PH_LOG_ERROR, "--output \"%s\": %s", path, strerror(errno));
        return -1;
    }

    if (*fd > STDOUT_FILENO) {
        close(*fd);
    }

    *fd = nfd;

    return 0;
}


/* buf and a newline, all of it */

int
ph_output_write(int fd, const char *path, const char *buf, size_t len)
{
    ssize_t       n;
    size_t        done;
    struct iovec  iov[2];

    done = 0;

    while (done < len + 1) {
        iov[0].iov_base = (char *) buf + (done < len ? done : len);
        iov[0].iov_len = done < len ? len - done : 0;
        iov[1].iov_base = "\n";
        iov[1].iov_len = 1;

        n = writev(fd, iov, 2);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ph_log(PH_LOG_ERROR, "writing --output %s: %s", path,
                   strerror(errno));
            return -1;
        }

        done += n;
    }

    return 0;
}
