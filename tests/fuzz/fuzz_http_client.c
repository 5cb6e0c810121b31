/* libFuzzer: the URL and HTTP answer parsers never read out of bounds, keep the body within
 * HTTP_BODY_MAX, and a parsed URL's parts are clean. */
#include "http_client.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_response response;
	for (int closed = 0; closed <= 1; closed++) {
		enum http_parse parsed =
			http_response_parse((const char *)data, size, closed, &response);
		if (response.body_len > HTTP_BODY_MAX || response.body[response.body_len] != '\0')
			abort();
		if (parsed == HTTP_PARSE_DONE && (response.status < 100 || response.status > 599))
			abort();
		if (closed && parsed == HTTP_PARSE_MORE)
			abort();
	}
	char url[2048];
	size_t len = size < sizeof(url) - 1 ? size : sizeof(url) - 1;
	memcpy(url, data, len);
	url[len] = '\0';
	struct http_url parts;
	if (http_url_parse(url, &parts) == 0 &&
	    (parts.host[0] == '\0' || strpbrk(parts.host, "/@ \r\n") != NULL ||
	     parts.path[0] != '/' || strpbrk(parts.path, " \r\n#") != NULL))
		abort();
	return 0;
}
