/*
 * json: writing JSON strings for the inspection output of synclog-tail.
 *
 * Names in a sync log are bytes, not necessarily UTF-8.  A string is
 * written between double quotes with '"' and '\\' escaped, control
 * characters (below 0x20, and 0x7f) as \uXXXX or their short escapes, valid
 * UTF-8 sequences copied as they are, and every byte that is not part of a
 * valid UTF-8 sequence written as \u00XX with the byte's value.  Such a
 * byte therefore reads back as the character U+00XX: the output is always
 * valid JSON, and an invalid byte can still be told apart from the
 * character by anyone who knows the input was not UTF-8.
 */
#ifndef SP_JSON_H
#define SP_JSON_H

#include "util.h"

/* Appends s as a quoted JSON string. */
void	json_add_string(struct strbuf *sb, const char *s);

/* The length of the valid UTF-8 sequence at p (n bytes left), or 0. */
size_t	utf8_seqlen(const unsigned char *p, size_t n);

#endif
