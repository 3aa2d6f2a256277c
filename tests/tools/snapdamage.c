/* snapdamage: damage a snapshot file (probation/snapfile.h) in place, as the
 * integration tests of damaged restore points and history need:
 *   snapdamage length FILE   the first rule's first expression: its first
 *                            attribute one byte short (libnftnl 1.2.4
 *                            exits on it: "nf_tables kernel ABI is broken")
 *   snapdamage noname FILE   the first rule's first expression without its
 *                            name (libnftnl dereferenced the NULL)
 *   snapdamage cut FILE      cut after the first message
 * length and noname leave the file without its end mark, as older versions
 * wrote files, so that the checks of each message are what must see them.
 * Exit 0 when done, 1 when the file holds no such rule. */
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HDR_LEN 24       /* magic, generation, tables, all, flags */
#define END_LEN 32       /* the end mark */
#define ALIGN4(n) (((n) + 3u) & ~3u)

static struct nlattr *attr_at(char *base, size_t off) { return (struct nlattr *)(base + off); }

/* The first attribute of type `type` in [off, end), or 0. */
static size_t find(char *buf, size_t off, size_t end, uint16_t type)
{
	while (off + sizeof(struct nlattr) <= end) {
		struct nlattr *a = attr_at(buf, off);

		if (a->nla_len < sizeof(*a) || off + a->nla_len > end)
			return 0;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return off;
		off += ALIGN4(a->nla_len);
	}
	return 0;
}

int main(int argc, char **argv)
{
	FILE *fp;
	char *buf;
	long size;
	size_t len, off, msg = 0, first_end = 0, rule = 0, list = 0, elem = 0, name = 0, data = 0;
	int done = 0;

	if (argc != 3 || !(fp = fopen(argv[2], "r+b"))) {
		fprintf(stderr, "usage: snapdamage length|noname|cut FILE\n");
		return 2;
	}
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)size + 1);
	if (!buf || size < HDR_LEN || fread(buf, 1, (size_t)size, fp) != (size_t)size)
		return 2;
	len = (size_t)size;
	for (off = HDR_LEN; off + sizeof(struct nlmsghdr) <= len;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(buf + off);

		if (nlh->nlmsg_len < sizeof(*nlh) || off + nlh->nlmsg_len > len)
			break;
		if (!first_end)
			first_end = off + nlh->nlmsg_len;
		if (!rule && nlh->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE))
			msg = off, rule = off + NLMSG_HDRLEN + 4;
		off += nlh->nlmsg_len;
	}
	if (strcmp(argv[1], "cut") == 0) {
		len = first_end;
		done = first_end != 0;
	} else if (rule) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(buf + msg);
		size_t end = msg + nlh->nlmsg_len;

		list = find(buf, rule, end, NFTA_RULE_EXPRESSIONS);
		elem = list ? find(buf, list + 4, list + attr_at(buf, list)->nla_len, NFTA_LIST_ELEM) : 0;
		if (elem) {
			size_t eend = elem + attr_at(buf, elem)->nla_len;

			name = find(buf, elem + 4, eend, NFTA_EXPR_NAME);
			data = find(buf, elem + 4, eend, NFTA_EXPR_DATA);
		}
		if (strcmp(argv[1], "length") == 0 && data &&
		    attr_at(buf, data)->nla_len >= 8 && attr_at(buf, data + 4)->nla_len == 8) {
			attr_at(buf, data + 4)->nla_len = 7;
			done = 1;
		} else if (strcmp(argv[1], "noname") == 0 && name) {
			uint16_t cut = (uint16_t)ALIGN4(attr_at(buf, name)->nla_len);

			memmove(buf + name, buf + name + cut, len - name - cut);
			len -= cut;
			nlh->nlmsg_len -= cut;
			attr_at(buf, list)->nla_len -= cut;
			attr_at(buf, elem)->nla_len -= cut;
			done = 1;
		}
		if (done) {
			/* no end mark: a file as older versions wrote it */
			uint32_t flags = 0;

			memcpy(buf + 20, &flags, sizeof(flags));
			if (len >= END_LEN && ((struct nlmsghdr *)(buf + len - END_LEN))->nlmsg_type ==
			    ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN))
				len -= END_LEN;
		}
	}
	if (!done) {
		fprintf(stderr, "snapdamage: %s: nothing to damage that way\n", argv[2]);
		return 1;
	}
	rewind(fp);
	if (fwrite(buf, 1, len, fp) != len || fflush(fp) || ftruncate(fileno(fp), (off_t)len))
		return 2;
	fclose(fp);
	free(buf);
	return 0;
}
