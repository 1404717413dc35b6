/* Wall clock. */
#ifndef MCL_CLOCK_H
#define MCL_CLOCK_H

/* Milliseconds on the monotonic clock (an arbitrary origin). */
double mcl_now_ms(void);

#endif
