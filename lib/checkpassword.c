/* Parsing of the checkpassword request: bounded, no copies. */
#include "checkpassword.h"

#include <string.h>

int checkpassword_parse(const char *buf, size_t len, struct checkpassword_request *request)
{
	if (len > CHECKPASSWORD_REQUEST_MAX)
		return -1;
	const char *end_user = memchr(buf, '\0', len);
	if (end_user == NULL)
		return -1;
	const char *password = end_user + 1;
	if (memchr(password, '\0', len - (size_t)(password - buf)) == NULL)
		return -1;
	request->user = buf;
	request->password = password;
	return 0;
}
