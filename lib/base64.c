/* A streaming base64 decoder: it keeps the bits of an unfinished group between calls and
 * writes a group only when out has room for all of it. */
#include "base64.h"

#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Each alphabet character's value plus one; 0 for every other byte. A table, not a chain of
 * range tests: on encrypted data the characters are random and those branches mispredict. */
static const unsigned char values[256] = {
    ['A'] = 1,	['B'] = 2,  ['C'] = 3,	['D'] = 4,  ['E'] = 5,	['F'] = 6,  ['G'] = 7,	['H'] = 8,
    ['I'] = 9,	['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

static int base64_value(char c)
{
	return values[(unsigned char)c] - 1;
}

void base64_init(struct base64 *d, bool strict)
{
	memset(d, 0, sizeof *d);
	d->strict = strict;
}

/* Output bytes that the next character c (an alphabet character or '=') completes. */
static size_t base64_room(const struct base64 *d, char c)
{
	if (c != '=')
		return d->chars == 3 ? 3 : 0;
	if (d->chars == 3)
		return 2;
	return d->chars == 2 && d->padding == 1 ? 1 : 0;
}

/* One '=': "xx==" ends with one byte, "xxx=" with two; '=' anywhere else is an error. */
static size_t base64_padding(struct base64 *d, unsigned char *out)
{
	if (d->chars == 2 && d->padding == 0) {
		d->padding = 1;
		return 0;
	}
	if (d->chars == 2 && d->padding == 1) {
		out[0] = (unsigned char)(d->bits >> 4);
		d->finished = true;
		return 1;
	}
	if (d->chars == 3) {
		out[0] = (unsigned char)(d->bits >> 10);
		out[1] = (unsigned char)(d->bits >> 2);
		d->finished = true;
		return 2;
	}
	d->error = true;
	return 0;
}

/* Four alphabet characters that start a group, with room for their three bytes: what nearly
 * every group of an armor is, decoded at once. Returns whether it was one. */
static bool whole_group(const struct base64 *d, const char *in, unsigned char *out)
{
	if (d->chars != 0 || d->padding != 0 || d->finished)
		return false;
	int a = base64_value(in[0]), b = base64_value(in[1]), c = base64_value(in[2]),
	    e = base64_value(in[3]);
	if ((a | b | c | e) < 0)
		return false;
	uint32_t bits = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)e;
	out[0] = (unsigned char)(bits >> 16);
	out[1] = (unsigned char)(bits >> 8);
	out[2] = (unsigned char)bits;
	return true;
}

size_t base64_decode(struct base64 *decoder, const char *in, size_t len, size_t *used,
		     unsigned char *out, size_t cap)
{
	/* A copy of the state, written back at the end: out may alias *decoder for all the
	 * compiler knows, which would keep the state in memory across every byte written. */
	struct base64 state = *decoder, *d = &state;
	size_t i = 0, n = 0;
	for (; i < len && !d->error; i++) {
		while (len - i >= 4 && cap - n >= 3 && whole_group(d, in + i, out + n)) {
			i += 4;
			n += 3;
		}
		if (i == len)
			break;
		char c = in[i];
		int v = base64_value(c);
		if (v < 0 && c != '=') {
			d->error = d->strict && !is_space(c);
			continue;
		}
		if (d->finished) {
			/* After the padding, strict mode allows nothing; lenient mode stops there.
			 */
			d->error = d->strict;
			continue;
		}
		if (v >= 0 && d->padding > 0) {
			d->error = true;
			break;
		}
		if (cap - n < base64_room(d, c))
			break;
		if (c == '=') {
			n += base64_padding(d, out + n);
			continue;
		}
		d->bits = (d->bits << 6) | (uint32_t)v;
		if (++d->chars == 4) {
			out[n++] = (unsigned char)(d->bits >> 16);
			out[n++] = (unsigned char)(d->bits >> 8);
			out[n++] = (unsigned char)d->bits;
			d->chars = 0;
			d->bits = 0;
		}
	}
	*decoder = state;
	*used = i;
	return n;
}

bool base64_end(const struct base64 *d)
{
	return !d->error && (d->finished || (d->chars == 0 && d->padding == 0));
}
