/*
 * What signals mean to the shipper: SIGTERM and SIGINT count in ph_stop
 * (the first: finish the request in flight and exit; the second: abandon
 * it), SIGHUP sets ph_reopen (open --output again), SIGPIPE is ignored.
 * The handlers only set flags; the loop reads them.
 */

#include <string.h>

#include "shipper.h"


volatile sig_atomic_t  ph_stop;
volatile sig_atomic_t  ph_reopen;


static void
ph_on_signal(int signo)
{
    if (signo == SIGHUP) {
        ph_reopen = 1;
        return;
    }

    if (ph_stop < 10) {
        ph_stop++;
    }
}


int
ph_signals(void)
{
    struct sigaction  sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);

    /* no SA_RESTART: poll() returns at once; hiredis and curl retry EINTR */
    sa.sa_handler = ph_on_signal;
    if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL)
        || sigaction(SIGHUP, &sa, NULL))
    {
        return -1;
    }

    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}
