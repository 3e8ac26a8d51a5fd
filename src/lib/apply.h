/*
 * apply: applying a bundle to a store.
 *
 * Nothing changes until the whole bundle has been read and checked, every
 * body staged inside the store and synced, and the bundle's tail verified;
 * a bundle cut short or damaged leaves the store as it was.  Then each
 * mailbox changes in one transaction.  A change whose expectation no longer
 * holds is refused, reported, and makes the result EX_TEMPFAIL.  Applied
 * entries are written to out between "%syncpipe applied 1" and "%end N";
 * the head is written first, so a failure leaves them without their tail.
 */
#ifndef SP_APPLY_H
#define SP_APPLY_H

#include <stdio.h>

/* Applies the bundle read from in (named inname in messages) to the store
 * at root, created if missing.  0 or exit status. */
int	apply_bundle(const char *root, FILE *in, const char *inname,
	    FILE *out);

#endif
