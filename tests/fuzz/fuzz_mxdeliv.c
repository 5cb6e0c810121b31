/* libFuzzer target for the /mxdeliv request reader: any header value makes a sender or
 * recipients within their bounds, or is refused; CRLF conversion stays in its buffer and
 * leaves no bare LF; a content length is never read past its bound; any host name makes a URL
 * within its buffer and is remembered exactly when it fits. */
#include "mxdeliv.h"
#include "smtp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct smtp_tx tx = {0};

	if (mxdeliv_sender(&tx, text, size) == 0 &&
	    (tx.mail.address_len > SMTP_ADDRESS_MAX || strlen(tx.mail.address) != tx.mail.address_len))
		abort();
	if (mxdeliv_recipients(&tx, text, size) == 0 && tx.recipient_count == 0)
		abort();
	for (size_t i = 0; i < tx.recipient_count; i++)
		if (tx.recipients[i].address[0] == '\0' ||
		    strpbrk(tx.recipients[i].address, " ,<>\"") != NULL)
			abort();
	smtp_tx_reset(&tx);

	size_t out_size = mxdeliv_crlf_size(text, size);
	char *out = malloc(out_size + 1);
	if (out == NULL)
		abort();
	if (mxdeliv_crlf(text, size, out) != out_size)
		abort();
	for (size_t i = 0; i < out_size; i++)
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
			abort();
	memcpy(out, text, size);
	out[size] = '\0';
	size_t length;
	if (mxdeliv_content_length(out, 31457280, &length) == 0 && length > 31457280)
		abort();
	/* any host name: a URL within its buffer, remembered only when it fits a slot */
	char url[64];
	if (mxdeliv_url(out, url, sizeof url) == 0 && strlen(url) >= sizeof url)
		abort();
	static struct mxdeliv_memory memory;
	mxdeliv_memory_remember(&memory, out, 1000);
	if (mxdeliv_memory_smtp_only(&memory, out, 1000) != (strlen(out) <= MXDELIV_HOST_MAX))
		abort();
	free(out);
	return 0;
}
