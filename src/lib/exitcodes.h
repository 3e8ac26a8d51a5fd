/*
 * exitcodes: the exit statuses every syncpipe program uses.
 *
 * The values are those of <sysexits.h>.  What matters to a supervisor is
 * the retry class: a "temporary" status means the same command may succeed
 * later (a lock was busy, the disk was full, the replica went away); a
 * "permanent" one means it will fail the same way until a person acts.
 *
 *   0  EX_OK          success
 *   1  (SP_EX_DIFF)   sync-diff --exit-code: master and replica differ
 *  64  EX_USAGE       permanent: bad command line
 *  65  EX_DATAERR     permanent: malformed input (log, change list, bundle)
 *  66  EX_NOINPUT     permanent: an input file or store does not exist
 *  69  EX_UNAVAILABLE temporary: a needed program or peer is unavailable
 *  70  EX_SOFTWARE    permanent: internal error (a bug; please report)
 *  71  EX_OSERR       temporary: out of memory, fork failed
 *  73  EX_CANTCREAT   permanent: cannot create an output file
 *  74  EX_IOERR       temporary: an I/O error reading or writing
 *  75  EX_TEMPFAIL    temporary: busy lock, stale change list, retry later
 *  76  EX_PROTOCOL    permanent: the peer speaks an unknown format version
 *  77  EX_NOPERM      permanent: permission denied, name outside the store
 *  78  EX_CONFIG      permanent: bad configuration
 */
#ifndef SP_EXITCODES_H
#define SP_EXITCODES_H

#include <sysexits.h>

#define SP_EX_DIFF	1

/* Nonzero when a failure with this status may go away by itself. */
#define sp_status_is_temporary(st) \
	((st) == EX_TEMPFAIL || (st) == EX_IOERR || (st) == EX_OSERR || \
	 (st) == EX_UNAVAILABLE)

/* The worse of two statuses: permanent beats temporary beats success. */
int	sp_status_worst(int a, int b);

#endif
