#include "apply/quick.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int quick_rule(enum quick_kind kind, const char *input, struct quick_rule *out, char *err,
	       size_t errlen)
{
	char word[128], proto[16], port[64], rest[2];
	int n;

	/* one word (two for o): a longer one spills into rest and is refused */
	memset(out, 0, sizeof(*out));
	if (kind == QUICK_BLOCK) {
		if (sscanf(input, "%127s %1s", word, rest) != 1) {
			snprintf(err, errlen, "give one address or prefix");
			return -EINVAL;
		}
		out->ip6 = strchr(word, ':') != NULL;
		out->where = WHERE_TOP;
		n = snprintf(out->text, sizeof(out->text), "%s saddr %s drop",
			     out->ip6 ? "ip6" : "ip", word);
	} else {
		if (sscanf(input, "%15s %63s %1s", proto, port, rest) != 2 ||
		    (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)) {
			snprintf(err, errlen, "tcp PORT or udp PORT");
			return -EINVAL;
		}
		out->where = WHERE_APPEND;
		n = snprintf(out->text, sizeof(out->text), "%s dport %s accept", proto, port);
	}
	if (n < 0 || (size_t)n >= sizeof(out->text)) {
		snprintf(err, errlen, "too long");
		return -EINVAL;
	}
	return 0;
}
