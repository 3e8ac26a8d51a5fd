/*
 * stream: the change list (sync-diff -> sync-send) and the bundle
 * (sync-send -> sync-apply).
 *
 * Both are lines in the word grammar of words.h between a head and a tail:
 *
 *   %syncpipe changes 1              %syncpipe bundle 1 [FEATURE...]
 *   RECORD...                        RECORD... (ADD and SIEVE carry bodies)
 *   %end COUNT                       %end COUNT SHA256
 *
 * COUNT is the number of records; a stream without its tail was cut short
 * and is refused.  In a bundle, an ADD or SIEVE line is followed by exactly
 * SIZE bytes of body (SIZE is a field of the line), an LF, and a line
 * "=HEX" giving the SHA-256 of the body; the tail's SHA256 covers every byte
 * of the stream before the tail line.  A reader refuses a higher major
 * version, saying which versions each side speaks.
 *
 * Records (names are Cyrus-style mailbox names or user ids):
 *
 *   MAILBOX  m guid uidvalidity uidnext expect-guid expect-uidvalidity
 *            expect-uidnext
 *   ADD      m uid base mtime size flags [keyword...]
 *   FLAGS    m uid base flags [keyword...]
 *   EXPUNGE  m uid base
 *   UNMAILBOX m guid uidvalidity
 *   SUBS     u [name...]
 *   SIEVE    u name size mtime
 *   UNSIEVE  u name
 *   ACTIVE   u [name]
 *   UNUSER   u
 *   CONFLICT m uid what            (reported, never acted upon)
 *   RENAME   m1 m2 guid uidvalidity
 *   COPY     m uid base mtime size flags src-m src-uid src-base [keyword...]
 *
 * COPY adds a message whose bytes the replica already holds as message
 * src-uid (base src-base) of mailbox src-m; it carries no body.
 * ADD, COPY, FLAGS and EXPUNGE apply to the mailbox of the MAILBOX record before
 * them, which says what the replica is expected to hold ("-" 0 0 for no
 * mailbox).  flags is a sorted subset of "DFPRST", written "" when empty.
 */
#ifndef SP_STREAM_H
#define SP_STREAM_H

#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "util.h"
#include "words.h"

#define STREAM_VERSION		1
#define STREAM_LINE_MAX		65536
#define STREAM_LITERAL_MAX	((uint64_t)4 << 30)

enum stream_kind { SK_CHANGES, SK_BUNDLE };

enum rec_type {
	R_MAILBOX, R_ADD, R_FLAGS, R_EXPUNGE, R_UNMAILBOX, R_SUBS, R_SIEVE,
	R_UNSIEVE, R_ACTIVE, R_UNUSER, R_CONFLICT, R_RENAME, R_COPY,
	R_NTYPES
};

/* One record: w[0] is the type word, w[1..nw) its fields.  The strings
 * point into the reader's buffer and live until the next sr_next(). */
struct record {
	enum rec_type	 type;
	int		 nw;
	char		*w[WORDS_MAX];
};

const char	*rec_type_name(enum rec_type t);
/* Appends a space and s as one word (word_add of words.h). */
void		 rec_word(struct strbuf *sb, const char *s);

struct swriter {
	FILE		*fp;
	enum stream_kind kind;
	EVP_MD_CTX	*md;
	unsigned long	 count;
	int		 failed;
	struct strbuf	 line;
};

/* Writes the head.  0 or exit status. */
int	sw_begin(struct swriter *w, FILE *fp, enum stream_kind kind);
/* Starts a record line: returns the buffer to add words to (word_add). */
struct strbuf *sw_rec(struct swriter *w, enum rec_type t);
/* Ends the record line and writes it.  0 or exit status. */
int	sw_rec_end(struct swriter *w);
/* Writes a literal of exactly size bytes read from fd, then its hash line.
 * A file that is shorter or longer than size is an error (EX_TEMPFAIL: it
 * changed under us). */
int	sw_literal(struct swriter *w, int fd, uint64_t size, const char *what);
/* Writes the tail and flushes.  0 or exit status. */
int	sw_end(struct swriter *w);
void	sw_free(struct swriter *w);

struct sreader {
	FILE		*fp;
	const char	*name;		/* for messages */
	enum stream_kind kind;
	unsigned long	 lineno;
	uint64_t	 offset;	/* bytes consumed */
	unsigned long	 count;
	int		 ended;
	EVP_MD_CTX	*md;
	char		*buf;
	size_t		 bufcap;
	int		 status;	/* the failure's exit status */
};

/* Reads and checks the head.  0 or exit status (reported). */
int	sr_begin(struct sreader *r, FILE *fp, const char *name,
	    enum stream_kind kind);
/* 1: a record in *rec; 0: the tail was read and verified; -1: error
 * (reported, r->status set). */
int	sr_next(struct sreader *r, struct record *rec);
/* Copies the literal that follows an ADD or SIEVE record to fd (-1 to
 * discard) and checks its hash.  0 or exit status (reported). */
int	sr_literal(struct sreader *r, uint64_t size, int fd);
/* Reports "NAME:LINE: msg" for the record just read; returns EX_DATAERR. */
int	sr_bad(struct sreader *r, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	sr_free(struct sreader *r);

/* Field parsers for records: 0 on success, -1 if malformed. */
int	parse_u32(const char *s, uint32_t *out);
int	parse_u64(const char *s, uint64_t *out);
int	parse_i64(const char *s, int64_t *out);

#endif
