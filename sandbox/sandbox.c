#define _GNU_SOURCE /* unshare, setns */
#include "sandbox/sandbox.h"

#include "conntrack/ct_nl.h"
#include "model/ruleset.h"
#include "nft/batch.h"
#include "nft/reader.h"
#include "nft/ruletext.h"

#include "util/grow.h"
#include "util/mono.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/chain.h>
#include <libnftnl/table.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PEER_PREFIX "nfpilot-in"
#define BULK_TABLE "nfpilot_admits"  /* sandbox_admits' */

/* ---- namespaces and netlink ---- */

static int enter(int fd)
{
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

/* Send nlh on s and run cb on the answers until the dump or ack ends. */
static int talk(struct mnl_socket *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char *buf = malloc(NL_RECV_SIZE);
	uint32_t portid = mnl_socket_get_portid(s);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s, buf, NL_RECV_SIZE);

		if (n < 0) {
			ret = -errno;
			break;
		}
		errno = 0;
		ret = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
		if (ret <= MNL_CB_STOP) {
			ret = ret < 0 ? (errno ? -errno : -EINVAL) : 0;
			break;
		}
	}
	free(buf);
	return ret;
}

static struct mnl_socket *open_sock(int bus)
{
	struct mnl_socket *s = mnl_socket_open(bus);

	if (s && mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(s);
		return NULL;
	}
	return s;
}

static struct nlmsghdr *rt_request(char *buf, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

/* ---- what the host has: interfaces, addresses, routes, sysctls ---- */

struct msgs {
	char **m;                 /* copies of dumped messages */
	size_t n, cap;
};

struct host {
	struct sandbox *sb;
	struct msgs addrs, routes;
	char (*sys)[2][160];      /* sysctl path under /proc/sys/net, value */
	size_t nsys, sys_cap;
};

static int keep_msg(struct msgs *ms, const struct nlmsghdr *nlh)
{
	if (grow(&ms->m, &ms->cap, ms->n + 1, sizeof(*ms->m), 64) ||
	    !(ms->m[ms->n] = malloc(nlh->nlmsg_len)))
		return -ENOMEM;
	memcpy(ms->m[ms->n++], nlh, nlh->nlmsg_len);
	return 0;
}

static void msgs_free(struct msgs *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		free(ms->m[i]);
	free(ms->m);
}

static int link_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFLA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sandbox *sb = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct sandbox_link *l;

	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, tb);
	if (ifi->ifi_index <= 1 || !tb[IFLA_IFNAME] || (ifi->ifi_flags & IFF_LOOPBACK))
		return MNL_CB_OK;
	l = grow_slot(&sb->links, &sb->nlinks, &sb->links_cap, sizeof(*sb->links), 8);
	if (!l)
		return MNL_CB_ERROR;
	l->index = (uint32_t)ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	/* a MAC an ethernet veth can take: unicast and not zero */
	if ((l->mac[0] & 1) || !memcmp(l->mac, "\0\0\0\0\0\0", 6)) {
		memcpy(l->mac, "\x02nfp", 4);
		l->mac[4] = (uint8_t)(l->index >> 8);
		l->mac[5] = (uint8_t)l->index;
	}
	if (l->index >= sb->next_index)
		sb->next_index = l->index + 1;
	return MNL_CB_OK;
}

static int addr_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct host *h = data;
	struct sandbox *sb = h->sb;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = { 0 }, *a;
	uint8_t (*l)[17];

	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, tb);
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (a && mnl_attr_get_payload_len(a) == (ifa->ifa_family == AF_INET ? 4u : 16u)) {
		l = grow_slot(&sb->local, &sb->nlocal, &sb->local_cap, sizeof(*sb->local), 16);
		if (!l)
			return MNL_CB_ERROR;
		(*l)[0] = ifa->ifa_family;
		memcpy(*l + 1, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
	}
	return keep_msg(&h->addrs, nlh) ? MNL_CB_ERROR : MNL_CB_OK;
}

static int route_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, RTA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct host *h = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	uint32_t table = rtm->rtm_table;

	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, tb);
	if (tb[RTA_TABLE])
		table = mnl_attr_get_u32(tb[RTA_TABLE]);
	/* the kernel makes the local table's and the connected routes
	 * itself, from the addresses */
	if (table == RT_TABLE_LOCAL || rtm->rtm_protocol == RTPROT_KERNEL ||
	    (rtm->rtm_flags & RTM_F_CLONED) || rtm->rtm_type == RTN_MULTICAST)
		return MNL_CB_OK;
	return keep_msg(&h->routes, nlh) ? MNL_CB_ERROR : MNL_CB_OK;
}

static int dump(struct sandbox *sb, struct mnl_socket *s, uint16_t type, uint8_t family,
		size_t hdrlen, mnl_cb_t cb, void *data)
{
	char buf[256] = { 0 }; /* libmnl leaves attribute padding as it finds it */
	struct nlmsghdr *nlh = rt_request(buf, type, NLM_F_DUMP, ++sb->seq);
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, hdrlen);

	g->rtgen_family = family;
	return talk(s, nlh, cb, data);
}

/* The sysctls that decide a packet's way besides the rules. */
static const char *const global_sys[] = {
	"ipv4/ip_forward", "ipv4/conf/all/rp_filter", "ipv4/conf/all/accept_local",
	"ipv4/conf/all/route_localnet", "ipv6/conf/all/forwarding",
	"netfilter/nf_conntrack_tcp_loose", "netfilter/nf_conntrack_tcp_be_liberal",
	"netfilter/nf_conntrack_acct",
};
static const char *const link_sys[] = {
	"ipv4/conf/%s/forwarding", "ipv4/conf/%s/rp_filter", "ipv6/conf/%s/forwarding",
	"ipv6/conf/%s/disable_ipv6",
};

static int add_sys(struct host *h, const char *path)
{
	char full[200], val[160];
	int fd;
	ssize_t n;
	char (*s)[2][160];

	snprintf(full, sizeof(full), "/proc/sys/net/%s", path);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* not on this kernel, or the module is not loaded */
	n = read(fd, val, sizeof(val) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	val[n] = 0;
	s = grow_slot(&h->sys, &h->nsys, &h->sys_cap, sizeof(*h->sys), 16);
	if (!s)
		return -ENOMEM;
	snprintf((*s)[0], sizeof((*s)[0]), "%s", path);
	snprintf((*s)[1], sizeof((*s)[1]), "%s", val);
	return 0;
}

static void write_sys(const char *path, const char *val)
{
	char full[200];
	int fd;

	snprintf(full, sizeof(full), "/proc/sys/net/%s", path);
	fd = open(full, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0) {
		/* a value this namespace does not take: it keeps its own */
	}
	close(fd);
}

static int read_host(struct sandbox *sb, struct host *h, char *err, size_t errlen)
{
	struct mnl_socket *s = open_sock(NETLINK_ROUTE);
	char path[160];
	int ret;

	if (!s) {
		snprintf(err, errlen, "sandbox: cannot open rtnetlink: %s", strerror(errno));
		return -errno;
	}
	ret = dump(sb, s, RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), link_cb, sb);
	if (!ret)
		ret = dump(sb, s, RTM_GETADDR, AF_UNSPEC, sizeof(struct ifaddrmsg), addr_cb, h);
	if (!ret)
		ret = dump(sb, s, RTM_GETROUTE, AF_INET, sizeof(struct rtmsg), route_cb, h);
	if (!ret)
		ret = dump(sb, s, RTM_GETROUTE, AF_INET6, sizeof(struct rtmsg), route_cb, h);
	mnl_socket_close(s);
	if (ret) {
		snprintf(err, errlen, "sandbox: reading this host's interfaces and routes: %s",
			 strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < sizeof(global_sys) / sizeof(global_sys[0]); i++)
		if ((ret = add_sys(h, global_sys[i])))
			return ret;
	for (size_t l = 0; l < sb->nlinks; l++)
		for (size_t i = 0; i < sizeof(link_sys) / sizeof(link_sys[0]); i++) {
			snprintf(path, sizeof(path), link_sys[i], sb->links[l].name);
			if ((ret = add_sys(h, path)))
				return ret;
		}
	return 0;
}

/* ---- the copy ---- */

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

/* A veth named as the host's interface, its peer the way in. */
static int make_link(struct sandbox *sb, const struct sandbox_link *l)
{
	char buf[1024] = { 0 }, peer[IF_NAMESIZE];
	struct nlmsghdr *nlh = rt_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
					  ++sb->seq);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi)), *pifi;
	struct nlattr *info, *data, *pn;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)l->index;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, l->name);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, l->mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pn = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	pifi->ifi_index = (int)l->peer;
	snprintf(peer, sizeof(peer), PEER_PREFIX "%u", l->peer);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, pn);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return talk(sb->rt, nlh, ack_cb, NULL);
}

static int set_up(struct sandbox *sb, uint32_t index)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh = rt_request(buf, RTM_NEWLINK, NLM_F_ACK, ++sb->seq);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return talk(sb->rt, nlh, ack_cb, NULL);
}

/* A dumped address or route, sent back as a new one. */
static int replay(struct sandbox *sb, char *m, uint16_t type)
{
	struct nlmsghdr *nlh = (void *)m;
	int ret;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = ++sb->seq;
	nlh->nlmsg_pid = 0;
	ret = talk(sb->rt, nlh, ack_cb, NULL);
	if (ret && ret != -EEXIST)
		sb->skipped++;
	return 0;
}

static int add_link(struct sandbox *sb, struct sandbox_link *l, char *err, size_t errlen)
{
	int ret;

	l->peer = sb->next_index++;
	ret = make_link(sb, l);
	if (!ret)
		ret = set_up(sb, l->peer);
	if (!ret && l->up)
		ret = set_up(sb, l->index);
	if (ret)
		snprintf(err, errlen, "sandbox: making interface %s: %s", l->name, strerror(-ret));
	return ret;
}

static int fill(struct sandbox *sb, struct host *h, char *err, size_t errlen)
{
	char path[160];
	int ret;

	/* addresses usable at once: no duplicate address detection */
	write_sys("ipv6/conf/all/accept_dad", "0");
	write_sys("ipv6/conf/default/accept_dad", "0");
	if ((ret = set_up(sb, 1))) {
		snprintf(err, errlen, "sandbox: bringing up lo: %s", strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < sb->nlinks; i++) {
		snprintf(path, sizeof(path), "ipv6/conf/%s/accept_dad", sb->links[i].name);
		if ((ret = add_link(sb, &sb->links[i], err, errlen)))
			return ret;
		write_sys(path, "0");
	}
	for (size_t i = 0; i < h->nsys; i++)
		write_sys(h->sys[i][0], h->sys[i][1]);
	for (size_t i = 0; i < h->addrs.n; i++)
		replay(sb, h->addrs.m[i], RTM_NEWADDR);
	for (size_t i = 0; i < h->routes.n; i++)
		replay(sb, h->routes.m[i], RTM_NEWROUTE);
	return 0;
}

static struct sandbox_loaded *loaded_table(const struct sandbox *sb, uint32_t family,
					    const char *name)
{
	for (size_t i = 0; i < sb->nloaded; i++)
		if (sb->loaded[i].family == family && !strcmp(sb->loaded[i].name, name))
			return &sb->loaded[i];
	return NULL;
}

/* What the sandbox knew of a table of the copy (its handles, what it held
 * as loaded) forgotten: it is being read again. */
static void forget_table(struct sandbox *sb, uint32_t family, const char *name)
{
	struct sandbox_loaded *l = loaded_table(sb, family, name);

	if (!l)
		return;
	free(l->name);
	free(l->map);
	*l = sb->loaded[--sb->nloaded];
}

/* The handles of the tables of now (read from the copy once before, the
 * host's, was loaded into it) against those of the host, from the restore
 * code's own map ("FAMILY\tTABLE\tCHAIN\tOLD\tNEW" lines); and each
 * table's greatest handle as loaded (greater ones: the change made them). */
static int map_tables(struct sandbox *sb, const struct snapshot *before,
		      const struct snapshot *now, char *err, size_t errlen)
{
	char *text = NULL, *line, *save = NULL;

	for (size_t t = 0; t < now->ntables; t++)
		forget_table(sb, now->tables[t].family, now->tables[t].name);
	for (size_t t = 0; t < now->ntables; t++) {
		const struct snap_table *st = &now->tables[t];
		struct sandbox_loaded *l;

		if (st->absent)
			continue;
		l = grow_slot(&sb->loaded, &sb->nloaded, &sb->loaded_cap, sizeof(*sb->loaded), 4);
		if (!l || !(l->name = strdup(st->name))) {
			if (l)
				sb->nloaded--;
			goto oom;
		}
		l->family = st->family;
		for (size_t r = 0; r < st->nrules; r++) {
			uint64_t h = nftnl_rule_get_u64(st->rules[r], NFTNL_RULE_HANDLE);

			l->max = h > l->max ? h : l->max;
		}
	}
	if (!(text = snapshot_handle_map(before, now)))
		goto oom;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char fam[16], table[256];
		unsigned long long real, cp;
		struct sandbox_loaded *l;
		struct sandbox_handle *m;
		uint32_t family;

		if (sscanf(line, "%15[^\t]\t%255[^\t]\t%*[^\t]\t%llu\t%llu", fam, table, &real,
			   &cp) != 4 || ruleset_family_parse(fam, &family) ||
		    !(l = loaded_table(sb, family, table)))
			continue;
		if (!(m = grow_slot(&l->map, &l->nmap, &l->map_cap, sizeof(*l->map), 16)))
			goto oom;
		*m = (struct sandbox_handle){ cp, real };
	}
	free(text);
	return 0;
oom:
	free(text);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/* The host's tables but nfpilot's own tracing tables. */
static int tables_view(const struct snapshot *all, struct snapshot *view)
{
	*view = *all;
	view->tables = calloc(all->ntables + 1, sizeof(*view->tables));
	if (!view->tables)
		return -ENOMEM;
	view->ntables = 0;
	for (size_t i = 0; i < all->ntables; i++)
		if (strncmp(all->tables[i].name, TRACE_TABLE_PREFIX, strlen(TRACE_TABLE_PREFIX)) != 0)
			view->tables[view->ntables++] = all->tables[i];
	return 0;
}

static int find_unsure(struct sandbox *sb, const struct snapshot *snap, char *err, size_t errlen);
static int chain_text(struct sandbox *sb, const struct trace_packet *p, char *err,
		      size_t errlen);

static int inside(struct sandbox *sb, struct host *h, char *err, size_t errlen)
{
	struct snapshot view;
	int ret;

	sb->rt = open_sock(NETLINK_ROUTE);
	sb->ct = open_sock(NETLINK_NETFILTER);
	sb->sock[0] = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sb->sock[1] = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	sb->sock[2] = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (!sb->rt || !sb->ct || sb->sock[0] < 0 || sb->sock[1] < 0 || sb->sock[2] < 0) {
		snprintf(err, errlen, "sandbox: cannot open netlink: %s", strerror(errno));
		return -errno;
	}
	if ((ret = fill(sb, h, err, errlen)))
		return ret;
	if ((ret = nl_open(&sb->nl, err, errlen)))
		return ret;
	if ((ret = tables_view(&sb->real, &view))) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	ret = view.ntables ? snapshot_restore(&sb->nl, &view, 0, 0, NULL, err, errlen) : 0;
	if (ret) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "sandbox: the copy of the tables was refused: %s", why);
	}
	if (!ret)
		ret = snapshot_take(&sb->nl, NULL, 0, false, &sb->copied, err, errlen);
	if (!ret)
		ret = map_tables(sb, &view, &sb->copied, err, errlen);
	if (!ret)
		ret = find_unsure(sb, &sb->real, err, errlen);
	free(view.tables);
	return ret;
}

int sandbox_quick(char *err, size_t errlen)
{
	struct snapshot s = { 0 };
	uint64_t rules = 0;
	struct nl nl;
	int ret = nl_open(&nl, err, errlen);

	if (ret)
		return ret;
	ret = snapshot_take(&nl, NULL, 0, true, &s, err, errlen);
	nl_close(&nl);
	for (size_t i = 0; !ret && i < s.ntables; i++)
		for (size_t j = 0; j < s.tables[i].nchains; j++)
			if (nftnl_chain_is_set(s.tables[i].chains[j], NFTNL_CHAIN_USE))
				rules += nftnl_chain_get_u32(s.tables[i].chains[j], NFTNL_CHAIN_USE);
	snapshot_free(&s);
	if (!ret && rules > SANDBOX_QUICK_RULES) {
		snprintf(err, errlen, "the ruleset has %llu rules, too many to copy into a sandbox "
			 "on the way (at most %d; nfpilot why and ct stale copy them when asked)",
			 (unsigned long long)rules, SANDBOX_QUICK_RULES);
		ret = -EFBIG;
	}
	return ret;
}

int sandbox_open(struct sandbox *sb, char *err, size_t errlen)
{
	struct host h = { .sb = sb };
	struct nl nl;
	int ret;

	memset(sb, 0, sizeof(*sb));
	sb->ns = sb->home = sb->sock[0] = sb->sock[1] = sb->sock[2] = -1;
	sb->next_index = 2;
	sb->opened = mono_now();
	ret = nl_open(&nl, err, errlen);
	if (ret)
		return ret;
	ret = snapshot_take(&nl, NULL, 0, false, &sb->real, err, errlen);
	nl_close(&nl);
	if (!ret)
		ret = read_host(sb, &h, err, errlen);
	/* interfaces made up later (peers, names the host has not) take
	 * indexes the host's do not */
	sb->next_index += 16;
	if (!ret && (sb->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "sandbox: %s", strerror(errno));
	}
	if (!ret && unshare(CLONE_NEWNET) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot make the sandbox's network namespace: %s%s",
			 strerror(errno), geteuid() ? " (needs root)" : "");
	} else if (!ret) {
		sb->ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		ret = sb->ns < 0 ? -errno : inside(sb, &h, err, errlen);
		if (enter(sb->home) < 0 && !ret) {
			ret = -errno;
			snprintf(err, errlen, "sandbox: cannot come back to this namespace: %s",
				 strerror(errno));
		}
	}
	msgs_free(&h.addrs);
	msgs_free(&h.routes);
	free(h.sys);
	if (ret)
		sandbox_close(sb);
	return ret;
}

void sandbox_close(struct sandbox *sb)
{
	if (sb->tracing)
		trace_close(&sb->trace);
	if (sb->nl.sock)
		nl_close(&sb->nl);
	if (sb->rt)
		mnl_socket_close(sb->rt);
	if (sb->ct)
		mnl_socket_close(sb->ct);
	for (int i = 0; i < 3; i++)
		if (sb->sock[i] >= 0)
			close(sb->sock[i]);
	if (sb->ns >= 0)
		close(sb->ns);
	if (sb->home >= 0)
		close(sb->home);
	snapshot_free(&sb->real);
	free(sb->links);
	free(sb->local);
	free(sb->unsure);
	snapshot_free(&sb->copied);
	free(sb->script);
	for (size_t i = 0; i < sb->ntouched; i++)
		free(sb->touched[i].name);
	free(sb->touched);
	for (size_t i = 0; i < sb->nloaded; i++) {
		free(sb->loaded[i].name);
		free(sb->loaded[i].map);
	}
	free(sb->loaded);
	ruleset_free(&sb->copy);
	memset(sb, 0, sizeof(*sb));
	sb->ns = sb->home = sb->sock[0] = sb->sock[1] = sb->sock[2] = -1;
}

/* ---- a question ---- */

static int note(struct sandbox_answer *a, uint32_t family, const char *table, const char *chain,
		uint64_t handle, const char *why)
{
	struct sandbox_note *n = grow_slot(&a->notes, &a->nnotes, &a->notes_cap, sizeof(*a->notes),
					   4);

	if (!n)
		return -ENOMEM;
	n->family = family;
	n->handle = handle;
	n->table = table ? strdup(table) : NULL;
	n->chain = chain ? strdup(chain) : NULL;
	n->why = strdup(why);
	if (!n->why || (table && !n->table) || (chain && !n->chain))
		return -ENOMEM;
	return 0;
}

bool sandbox_is_local(const struct sandbox *sb, uint8_t family, const uint8_t *addr)
{
	for (size_t i = 0; i < sb->nlocal; i++)
		if (sb->local[i][0] == family &&
		    !memcmp(sb->local[i] + 1, addr, family == AF_INET ? 4 : 16))
			return true;
	return false;
}

static int oif_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };

	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, tb);
	if (tb[RTA_OIF] && rtm->rtm_type == RTN_UNICAST)
		*(uint32_t *)data = mnl_attr_get_u32(tb[RTA_OIF]);
	return MNL_CB_OK;
}

/* The interface the sandbox's routes reach addr through, or 0. */
static uint32_t route_oif(struct sandbox *sb, uint8_t family, const uint8_t *addr)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh = rt_request(buf, RTM_GETROUTE, NLM_F_ACK, ++sb->seq);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	uint32_t oif = 0;

	rtm->rtm_family = family;
	rtm->rtm_dst_len = family == AF_INET ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, addr);
	if (talk(sb->rt, nlh, oif_cb, &oif))
		return 0;
	return oif;
}

/* A conntrack entry of the packet's connection (established), or of the
 * datagram an ICMP error is about (related). */
static int make_ct(struct sandbox *sb, const struct packet *p, char *err, size_t errlen)
{
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = ct_nl_request(buf, IPCTNL_MSG_CT_NEW, p->family,
					     NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, ++sb->seq);
	struct ct_tuple o = { 0 }, r = { 0 };
	size_t alen = p->family == AF_INET ? 4 : 16;
	bool icmp = p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6;
	uint8_t proto = p->proto;
	int ret;

	if (p->state == PACKET_RELATED) {
		if (!icmp) {
			snprintf(err, errlen, "state related: the sandbox asks it of an ICMP error "
				 "(icmp or icmpv6 ... state related); a related TCP or UDP "
				 "connection comes from a helper's expectation, which it does not make");
			return -EINVAL;
		}
		/* the datagram the error is about went from dst to src */
		proto = IPPROTO_UDP;
		memcpy(o.src.b, p->daddr, alen);
		memcpy(o.dst.b, p->saddr, alen);
		o.sport = PACKET_RELATED_SPORT;
		o.dport = PACKET_RELATED_DPORT;
	} else {
		memcpy(o.src.b, p->saddr, alen);
		memcpy(o.dst.b, p->daddr, alen);
		o.sport = p->sport;
		o.dport = icmp ? (uint16_t)(p->icmp_type << 8 | p->icmp_code) : p->dport;
	}
	r.src = o.dst;
	r.dst = o.src;
	r.sport = icmp && proto != IPPROTO_UDP ? o.sport : o.dport;
	r.dport = o.sport;
	if (icmp && proto != IPPROTO_UDP) {
		/* an echo request's reply */
		uint8_t reply = p->icmp_type == 8 ? 0 : p->icmp_type == 128 ? 129 : p->icmp_type;

		if (p->icmp_type != 8 && p->icmp_type != 128) {
			snprintf(err, errlen, "state established: of icmp, only an echo request "
				 "(type echo-request) belongs to a connection");
			return -EINVAL;
		}
		r.dport = (uint16_t)(reply << 8);
	}
	ct_nl_put_tuple(nlh, CTA_TUPLE_ORIG, p->family, proto, &o);
	ct_nl_put_tuple(nlh, CTA_TUPLE_REPLY, p->family, proto, &r);
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(120));
	/* the kernel confirms an entry it is given: the status must say so */
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED));
	if (proto == IPPROTO_TCP) {
		struct nf_ct_tcp_flags f = { IP_CT_TCP_FLAG_BE_LIBERAL, IP_CT_TCP_FLAG_BE_LIBERAL };
		struct nlattr *pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		struct nlattr *t = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);

		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
		mnl_attr_put(nlh, CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, sizeof(f), &f);
		mnl_attr_put(nlh, CTA_PROTOINFO_TCP_FLAGS_REPLY, sizeof(f), &f);
		mnl_attr_nest_end(nlh, t);
		mnl_attr_nest_end(nlh, pi);
	} else if (proto == IPPROTO_SCTP) {
		struct nlattr *pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		struct nlattr *s = mnl_attr_nest_start(nlh, CTA_PROTOINFO_SCTP);

		mnl_attr_put_u8(nlh, CTA_PROTOINFO_SCTP_STATE, 3 /* SCTP_CONNTRACK_ESTABLISHED */);
		/* the verification tag packet_build writes */
		mnl_attr_put_u32(nlh, CTA_PROTOINFO_SCTP_VTAG_ORIGINAL, htonl(0x12000000));
		mnl_attr_put_u32(nlh, CTA_PROTOINFO_SCTP_VTAG_REPLY, htonl(0x12000000));
		mnl_attr_nest_end(nlh, s);
		mnl_attr_nest_end(nlh, pi);
	}
	ret = talk(sb->ct, nlh, ack_cb, NULL);
	if (ret)
		snprintf(err, errlen, "sandbox: making the conntrack entry of state %s: %s",
			 p->state == PACKET_RELATED ? "related" : "established",
			 ct_nl_strerror(ret));
	return ret;
}

static void flush_ct(struct sandbox *sb)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh = ct_nl_request(buf, IPCTNL_MSG_CT_DELETE, AF_UNSPEC, NLM_F_ACK,
					     ++sb->seq);

	talk(sb->ct, nlh, ack_cb, NULL);
}

static struct sandbox_link *link_named(struct sandbox *sb, const char *name)
{
	for (size_t i = 0; i < sb->nlinks; i++)
		if (!strcmp(sb->links[i].name, name))
			return &sb->links[i];
	return NULL;
}

/* A link the host does not have, made for this question. */
static int made_up_link(struct sandbox *sb, const char *name, struct sandbox_link **out,
			char *err, size_t errlen)
{
	struct sandbox_link *l;
	int ret;

	if (grow(&sb->links, &sb->links_cap, sb->nlinks + 1, sizeof(*sb->links), 8))
		return -ENOMEM;
	l = &sb->links[sb->nlinks];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->index = sb->next_index++;
	l->up = true;
	memcpy(l->mac, "\x02nfp", 4);
	l->mac[4] = (uint8_t)(l->index >> 8);
	l->mac[5] = (uint8_t)l->index;
	if ((ret = add_link(sb, l, err, errlen)))
		return ret;
	sb->nlinks++;
	*out = l;
	return 0;
}

static int oper_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };

	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr, tb);
	if (tb[IFLA_OPERSTATE])
		*(uint8_t *)data = mnl_attr_get_u8(tb[IFLA_OPERSTATE]);
	return MNL_CB_OK;
}

/* A veth drops what it is given to send until the kernel's link watch has
 * seen its carrier come on (its queue is attached then: up to a second
 * after it came up, and more on a loaded machine: the link watch is work
 * the kernel defers). Whether it has, asked once; and waited for, once per
 * interface, at most SANDBOX_READY_SECS. */
#define SANDBOX_READY_SECS 10.0
/* An IPv6 address of the interface index that is still tentative */
struct tentative {
	uint32_t index;
	bool any;
};

static int tentative_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct tentative *t = data;
	uint32_t flags = ifa->ifa_flags;
	const struct nlattr *a;

	if (ifa->ifa_index != t->index)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa))
		if (mnl_attr_get_type(a) == IFA_FLAGS && !mnl_attr_validate(a, MNL_TYPE_U32))
			flags = mnl_attr_get_u32(a);
	t->any |= (flags & IFA_F_TENTATIVE) != 0;
	return MNL_CB_OK;
}

/* ... and an IPv6 address is taken only once the kernel's address
 * configuration, also deferred work, has made it usable: a packet to an
 * address still tentative goes nowhere (no rule sees it), even without
 * duplicate address detection (fill) */
static bool is_ready(struct sandbox *sb, struct sandbox_link *l)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh = rt_request(buf, RTM_GETLINK, NLM_F_ACK, ++sb->seq);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct tentative t = { l->index, false };
	struct ifaddrmsg *ifa;
	uint8_t oper = 0;

	if (l->ready)
		return true;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)l->peer;
	if (talk(sb->rt, nlh, oper_cb, &oper) || oper != 6) /* IF_OPER_UP (linux/if.h
							      * clashes with net/if.h) */
		return false;
	memset(buf, 0, sizeof(buf));
	nlh = rt_request(buf, RTM_GETADDR, NLM_F_DUMP, ++sb->seq);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	if (talk(sb->rt, nlh, tentative_cb, &t) || t.any)
		return false;
	l->ready = true;
	return true;
}

static void wait_ready(struct sandbox *sb, struct sandbox_link *l)
{
	double end = mono_now() + SANDBOX_READY_SECS;

	while (!is_ready(sb, l) && mono_now() < end)
		usleep(10000);
}

bool sandbox_ready(struct sandbox *sb)
{
	bool all = true;

	for (size_t i = 0; i < sb->nlinks; i++)
		all = (!sb->links[i].up || is_ready(sb, &sb->links[i])) && all;
	return all || mono_now() - sb->opened > SANDBOX_READY_SECS;
}

/* Send p in on interface in (its peer sends it), or out of this host
 * (in NULL). The sockets are the sandbox's, kept open: closing a packet
 * socket waits for an RCU grace period (tens of milliseconds). */
static int send_packet(struct sandbox *sb, const struct packet *p, const struct sandbox_link *in,
		       char *err, size_t errlen)
{
	uint8_t bytes[PACKET_MAX];
	size_t len = packet_build(p, bytes);
	struct sockaddr_storage ss = { 0 };
	int mark = p->has_mark ? (int)p->mark : 0, fd;
	socklen_t sl;

	if (in) {
		struct sockaddr_ll *ll = (void *)&ss;

		fd = sb->sock[0];
		ll->sll_family = AF_PACKET;
		ll->sll_ifindex = (int)in->peer;
		ll->sll_protocol = htons(p->family == AF_INET ? ETH_P_IP : ETH_P_IPV6);
		ll->sll_halen = 6;
		memcpy(ll->sll_addr, in->mac, 6);
		sl = sizeof(*ll);
	} else if (p->family == AF_INET) {
		struct sockaddr_in *s4 = (void *)&ss;

		fd = sb->sock[1];
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, p->daddr, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)&ss;

		if (p->daddr[0] == 0xff || (p->daddr[0] == 0xfe && (p->daddr[1] & 0xc0) == 0x80)) {
			snprintf(err, errlen, "a packet this host sends to a link-local or multicast "
				 "address leaves by an interface why cannot be told yet: ask about "
				 "it as the other end receives it");
			return -EINVAL;
		}
		fd = sb->sock[2];
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, p->daddr, 16);
		sl = sizeof(*s6);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 ||
	    (sendto(fd, bytes, len, 0, (struct sockaddr *)&ss, sl) < 0 && errno != EPERM)) {
		/* EPERM: a rule of the output path dropped it, the trace says which */
		if (errno == ENETUNREACH || errno == EHOSTUNREACH)
			snprintf(err, errlen, "this host has no route for the packet (%s): it would "
				 "not be sent", strerror(errno));
		else
			snprintf(err, errlen, "sandbox: sending the packet: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Is the traced packet tp the one asked about (as it came in: before NAT)? */
static bool is_asked(const struct trace_packet *tp, const struct packet *p)
{
	const struct trace_hdr *h = &tp->hdr;
	size_t alen = p->family == AF_INET ? 4 : 16;

	return h->family == p->family && h->proto == p->proto &&
	       !memcmp(h->saddr, p->saddr, alen) && !memcmp(h->daddr, p->daddr, alen) &&
	       (!h->ports || (h->sport == p->sport && h->dport == p->dport));
}

/* The asked packet's trace; the sandbox's own packets (neighbour
 * discovery of its interfaces) are left out. Its messages come at once
 * unless the machine is loaded (a packet sent in is received in a softirq
 * that may wait for ksoftirqd): waiting longer costs nothing when they
 * come, and a packet the hooks never see sends none. */
#define SANDBOX_ANSWER_SECS 5.0
static struct trace_packet *read_back(struct trace *t, const struct packet *asked)
{
	double end = mono_now() + SANDBOX_ANSWER_SECS;
	struct trace_packet *p = NULL;
	bool flushed = false;

	while (!p) {
		struct pollfd pfd = { .fd = trace_fd(t), .events = POLLIN };

		if (!flushed && mono_now() >= end) {
			trace_asm_expire(&t->asm_, mono_now(), -1);
			flushed = true;
		} else if (!flushed) {
			poll(&pfd, 1, 20);
			if (trace_step(t, mono_now()) < 0)
				return NULL;
		}
		while (!p && (p = trace_take(t)))
			if (!is_asked(p, asked)) {
				trace_packet_free(p);
				p = NULL;
			}
		if (!p && flushed)
			return NULL;
	}
	return p;
}

/* The tracing table of the sandbox: made once, for every packet. */
static int tracing(struct sandbox *sb, char *err, size_t errlen)
{
	const char *all = "";
	struct trace_packet *p;
	int ret;

	if (!sb->tracing) {
		ret = trace_open(&sb->trace, &all, 1, false, 0, err, errlen);
		if (ret)
			return ret;
		sb->tracing = true;
	}
	/* what came since the last question */
	trace_step(&sb->trace, mono_now());
	trace_asm_expire(&sb->trace.asm_, mono_now(), -1);
	while ((p = trace_take(&sb->trace)))
		trace_packet_free(p);
	return 0;
}

/* A handle of table through the map: the copy's to the host's (to_real),
 * or back */
static uint64_t map_handle(const struct sandbox *sb, uint32_t family, const char *table,
			   uint64_t h, bool to_real)
{
	const struct sandbox_loaded *l = loaded_table(sb, family, table);

	for (size_t i = 0; l && i < l->nmap; i++)
		if ((to_real ? l->map[i].copy : l->map[i].real) == h)
			return to_real ? l->map[i].real : l->map[i].copy;
	return h;
}

static uint64_t real_handle(const struct sandbox *sb, uint32_t family, const char *table,
			    uint64_t copy)
{
	return map_handle(sb, family, table, copy, true);
}

uint64_t sandbox_copy_handle(const struct sandbox *sb, uint32_t family, const char *table,
			     uint64_t real)
{
	return map_handle(sb, family, table, real, false);
}

/* Why a rule's expression may make the sandbox's answer differ, or NULL. */
static const char *unsure(struct nftnl_expr *e, const struct snap_table *t)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!strcmp(name, "socket"))
		return "socket: matches the host's sockets, and the sandbox has none";
	if (!strcmp(name, "fib"))
		return "fib: looks up the sandbox's copy of the routes (the main routes and "
		       "addresses, not the host's policy routing rules)";
	if (!strcmp(name, "rt"))
		return "rt: routing data of the sandbox's copy of the routes";
	if (!strcmp(name, "xfrm"))
		return "ipsec: the sandbox has no IPsec state";
	if (!strcmp(name, "osf"))
		return "osf: the fingerprint of a packet nfpilot made";
	if (!strcmp(name, "numgen"))
		return "numgen: a number generator's next value";
	if (!strcmp(name, "limit") || !strcmp(name, "quota") || !strcmp(name, "connlimit") ||
	    !strcmp(name, "last"))
		return "rate, quota or connection count: the sandbox's copy starts from its own "
		       "state, not the host's of this moment";
	if (!strcmp(name, "meta")) {
		switch (nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY)) {
		case NFT_META_SKUID: case NFT_META_SKGID: case NFT_META_CGROUP:
		case NFT_META_SECPATH:
			return "meta skuid, skgid, cgroup or ipsec: the sandbox's packet has no "
			       "socket of the host's programs";
		case NFT_META_TIME_NS: case NFT_META_TIME_DAY: case NFT_META_TIME_HOUR:
			return "time of day: the answer holds for now only";
		case NFT_META_CPU:
			return "meta cpu: the sandbox's packet is handled on any CPU";
		}
		return NULL;
	}
	if (!strcmp(name, "ct")) {
		uint32_t k = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY);

		if (k == NFT_CT_HELPER)
			return "ct helper: the sandbox makes no helper expectations";
		if (k == NFT_CT_EXPIRATION || k == NFT_CT_PKTS || k == NFT_CT_BYTES ||
		    k == NFT_CT_AVGPKT)
			return "ct counters or expiration: of the sandbox's connection, not the host's";
		return NULL;
	}
	if (!strcmp(name, "objref") &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE) == NFT_OBJECT_CT_HELPER)
		return "ct helper: the sandbox makes no helper expectations";
	if (!strcmp(name, "match")) {
		static const char *const xt[] = { "owner", "socket", "cgroup", "time", "policy",
						  "recent", "hashlimit", "limit", "connlimit",
						  "rpfilter", "statistic", "quota", "helper" };
		const char *m = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);

		for (size_t i = 0; m && i < sizeof(xt) / sizeof(xt[0]); i++)
			if (!strcmp(m, xt[i]))
				return "an iptables match on the host's sockets, routes, time or "
				       "state of this moment (owner, socket, time, recent, limit, ...)";
		return NULL;
	}
	if (!strcmp(name, "lookup") || !strcmp(name, "dynset")) {
		const char *set = snapshot_expr_set(e);

		for (size_t i = 0; set && i < t->nsets; i++) {
			uint32_t f = nftnl_set_get_u32(t->sets[i], NFTNL_SET_FLAGS);

			if (strcmp(nftnl_set_get_str(t->sets[i], NFTNL_SET_NAME), set) == 0 &&
			    (f & (NFT_SET_EVAL | NFT_SET_TIMEOUT)) && !(f & NFT_SET_ANONYMOUS))
				return "a dynamic set: its elements as copied now, not as they will be";
		}
	}
	return NULL;
}

struct scan {
	struct sandbox *sb;
	size_t table, rule;
	int ret;
};

static int scan_expr(struct nftnl_expr *e, void *data)
{
	struct scan *s = data;
	struct sandbox *sb = s->sb;
	const char *why = unsure(e, &sb->scanned->tables[s->table]);
	struct sandbox_unsure *u;

	for (size_t i = 0; why && i < sb->nunsure; i++)
		if (sb->unsure[i].table == s->table && sb->unsure[i].rule == s->rule &&
		    sb->unsure[i].why == why)
			why = NULL;
	if (!why)
		return 0;
	u = grow_slot(&sb->unsure, &sb->nunsure, &sb->unsure_cap, sizeof(*sb->unsure), 16);
	if (!u) {
		s->ret = -ENOMEM;
		return -1;
	}
	*u = (struct sandbox_unsure){ s->table, s->rule, why };
	return 0;
}

/* The rules of the copy whose answer the sandbox cannot vouch for, once. */
static int find_unsure(struct sandbox *sb, const struct snapshot *snap, char *err, size_t errlen)
{
	sb->scanned = snap;
	sb->nunsure = 0;
	for (size_t t = 0; t < snap->ntables; t++)
		for (size_t r = 0; r < snap->tables[t].nrules; r++) {
			struct scan s = { sb, t, r, 0 };

			nftnl_expr_foreach(snap->tables[t].rules[r], scan_expr, &s);
			if (s.ret) {
				snprintf(err, errlen, "out of memory");
				return s.ret;
			}
		}
	return 0;
}

static bool same_chain(const struct trace_step *a, const struct trace_step *b)
{
	return a->family == b->family && !strcmp(a->table, b->table) && !strcmp(a->chain, b->chain);
}

/* Notes for the rules of the chains the packet went through, up to the
 * rule that decided (those after it were never evaluated). */
static int rule_notes(const struct sandbox *sb, struct sandbox_answer *a)
{
	const struct trace_packet *p = a->packet;
	const struct trace_step *d = p->decided >= 0 && p->steps[p->decided].kind == TRACE_RULE
				     ? &p->steps[p->decided] : NULL;

	for (size_t i = 0; i < sb->nunsure; i++) {
		const struct snap_table *tb = &sb->scanned->tables[sb->unsure[i].table];
		struct nftnl_rule *r = tb->rules[sb->unsure[i].rule];
		const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		uint64_t handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
		const struct trace_step *st = NULL;
		int ret;

		for (size_t k = 0; k < p->nsteps && !st; k++)
			if (p->steps[k].family == tb->family && !strcmp(p->steps[k].table, tb->name) &&
			    !strcmp(p->steps[k].chain, chain))
				st = &p->steps[k];
		if (!st)
			continue;
		if (d && same_chain(d, st)) {
			/* after the deciding rule? (the rules are in chain order) */
			bool after = false;

			for (size_t k = 0; k < sb->unsure[i].rule && !after; k++)
				after = nftnl_rule_get_u64(tb->rules[k], NFTNL_RULE_HANDLE) ==
					d->handle && !strcmp(nftnl_rule_get_str(tb->rules[k],
					NFTNL_RULE_CHAIN), chain);
			if (after)
				continue;
		}
		if ((ret = note(a, tb->family, tb->name, chain, handle, sb->unsure[i].why)))
			return ret;
	}
	return 0;
}

/* Did the staged change make the copy's rule handle of table? */
static bool is_new(const struct sandbox *sb, uint32_t family, const char *table, uint64_t handle)
{
	const struct sandbox_loaded *l = loaded_table(sb, family, table);

	return !l || handle > l->max;
}

/* The rules on p's path that the staged change made. */
static void mark_new(const struct sandbox *sb, struct trace_packet *p)
{
	for (size_t i = 0; i < p->nsteps; i++) {
		struct trace_step *s = &p->steps[i];

		if (s->kind == TRACE_RULE && is_new(sb, s->family, s->table, s->handle))
			s->staged = 0;
	}
}

/* The interface the sandbox's routes reach p's source through, or NULL. */
static struct sandbox_link *link_to_source(struct sandbox *sb, const struct packet *p)
{
	uint32_t oif = route_oif(sb, p->family, p->saddr);

	for (size_t i = 0; i < sb->nlinks; i++)
		if (sb->links[i].index == oif)
			return &sb->links[i];
	return NULL;
}

static int ask(struct sandbox *sb, const struct packet *p, struct sandbox_answer *a, char *err,
	       size_t errlen)
{
	struct sandbox_link *in = NULL;
	bool local_src = sandbox_is_local(sb, p->family, p->saddr);
	int ret;

	if (p->state != PACKET_NEW && (ret = make_ct(sb, p, err, errlen)))
		return ret;
	if (!strcmp(p->iif, "lo") || (!p->iif[0] && local_src)) {
		snprintf(a->how, sizeof(a->how), "sent by this host");
	} else if (p->iif[0]) {
		in = link_named(sb, p->iif);
		if (!in) {
			if ((ret = made_up_link(sb, p->iif, &in, err, errlen)))
				return ret;
			ret = note(a, 0, NULL, NULL, 0, "this host has no interface of that name: the "
				   "sandbox made one, so rules that name it by index (iif, oif) "
				   "cannot match it");
			if (ret)
				return ret;
		}
		snprintf(a->how, sizeof(a->how), "in on %s", in->name);
		if (!in->up && (ret = note(a, 0, NULL, NULL, 0, "the interface is down: it "
					   "receives nothing")))
			return ret;
	} else {
		in = link_to_source(sb, p);
		if (!in) {
			snprintf(err, errlen, "no interface of this host leads back to the source: "
				 "say where the packet comes in (iif NAME)");
			return -EINVAL;
		}
		snprintf(a->how, sizeof(a->how), "in on %s, the interface of the route to the source",
			 in->name);
	}
	if ((ret = tracing(sb, err, errlen)))
		return ret;
	if (in)
		wait_ready(sb, in);
	if ((ret = send_packet(sb, p, in, err, errlen)))
		return ret;
	a->packet = read_back(&sb->trace, p);
	if (!a->packet) {
		snprintf(err, errlen, "the sandbox's kernel traced nothing of the packet");
		return -EIO;
	}
	if (sb->staged) {
		/* the copy's text, hooks, new rules and notes, by the copy's
		 * handles; then the host's handles, none for a new rule */
		mark_new(sb, a->packet);
		if ((ret = trace_packet_describe(a->packet, &sb->copy)) || (ret = rule_notes(sb, a)))
			return ret;
		for (size_t i = 0; i < a->nnotes; i++) {
			struct sandbox_note *n = &a->notes[i];

			n->handle = is_new(sb, n->family, n->table, n->handle) ? 0
				    : real_handle(sb, n->family, n->table, n->handle);
		}
	}
	for (size_t i = 0; i < a->packet->nsteps; i++) {
		struct trace_step *s = &a->packet->steps[i];

		if (s->kind == TRACE_RULE && s->staged < 0)
			s->handle = real_handle(sb, s->family, s->table, s->handle);
	}
	if (!a->packet->complete &&
	    (ret = note(a, 0, NULL, NULL, 0, "the trace ends without a verdict: the kernel "
			"stopped the packet outside the rules (no route, forwarding off, the "
			"reverse path filter, or an interface that is down)")))
		return ret;
	if (sb->skipped) {
		char why[160];

		snprintf(why, sizeof(why), "%u of the host's addresses or routes could not be "
			 "copied into the sandbox", sb->skipped);
		if ((ret = note(a, 0, NULL, NULL, 0, why)))
			return ret;
	}
	return sb->staged ? 0 : rule_notes(sb, a);
}

static int drop_bulk(struct sandbox *sb, char *err, size_t errlen)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct batch b;
	int tag, ret = t ? batch_open(&b, 0) : -ENOMEM;

	if (!ret) {
		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, BULK_TABLE);
		nftnl_table_nlmsg_build_payload(batch_msg(&b, NFT_MSG_DELTABLE, NFPROTO_INET,
							  NLM_F_ACK), t);
		batch_push(&b, -1);
		ret = batch_commit(&sb->nl, &b, &tag, err, errlen);
		batch_free(&b);
	}
	if (t)
		nftnl_table_free(t);
	if (!ret)
		sb->bulk = false;
	else if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

int sandbox_ask(struct sandbox *sb, const struct packet *p, struct sandbox_answer *a, char *err,
		size_t errlen)
{
	int ret;

	memset(a, 0, sizeof(*a));
	if ((ret = enter(sb->ns))) {
		snprintf(err, errlen, "sandbox: cannot enter it: %s", strerror(-ret));
		return ret;
	}
	/* the table of admissions' chains would be steps of the answer */
	if (sb->bulk && (ret = drop_bulk(sb, err, errlen))) {
		enter(sb->home);
		return ret;
	}
	ret = ask(sb, p, a, err, errlen);
	flush_ct(sb);
	if (enter(sb->home) < 0 && !ret) {
		ret = -errno;
		snprintf(err, errlen, "sandbox: cannot come back to this namespace: %s",
			 strerror(errno));
	}
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (ret)
		sandbox_answer_free(a);
	return ret;
}

int sandbox_describe(struct sandbox *sb, struct sandbox_answer *a, char *err, size_t errlen)
{
	struct trace_packet *p = a->packet;
	int ret;

	if (!sb->staged)
		return 0;
	if ((ret = enter(sb->ns))) {
		snprintf(err, errlen, "sandbox: cannot enter it: %s", strerror(-ret));
		return ret;
	}
	ret = chain_text(sb, p, err, errlen);
	if (enter(sb->home) < 0 && !ret) {
		ret = -errno;
		snprintf(err, errlen, "sandbox: cannot come back to this namespace: %s",
			 strerror(errno));
	}
	for (size_t i = 0; !ret && i < p->nsteps; i++) {
		struct trace_step *st = &p->steps[i];
		const struct nfp_table *t = ruleset_find_table(&sb->copy, st->family, st->table);
		const struct nfp_chain *c = t ? ruleset_find_chain(t, st->chain) : NULL;
		const struct nfp_rule *r;

		if (st->kind != TRACE_RULE || st->text || !c)
			continue;
		/* the copy's handle: a new rule's is that already */
		r = ruleset_find_rule(c, st->staged >= 0 ? st->handle
					 : sandbox_copy_handle(sb, st->family, st->table, st->handle));
		if (r && r->text && !(st->text = strdup(r->text))) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
		}
	}
	return ret;
}

void sandbox_answer_free(struct sandbox_answer *a)
{
	trace_packet_free(a->packet);
	for (size_t i = 0; i < a->nnotes; i++) {
		free(a->notes[i].table);
		free(a->notes[i].chain);
		free(a->notes[i].why);
	}
	free(a->notes);
	memset(a, 0, sizeof(*a));
}

/* The text of the copy's chains p went through that have none yet, from
 * the listing of nft/ruletext.h (the rules screen's: tables of
 * iptables-nft's families are listed each in a process of its own —
 * libxtables knows one family's extensions a process, and lists an ip6
 * table's after an ip table's as "XT target DNAT not found"). An answer
 * needs a few chains, not the copy's every rule. Called in the sandbox's
 * namespace: the listing's thread, and the processes it starts, are made
 * there. */
static int chain_text(struct sandbox *sb, const struct trace_packet *p, char *err,
		      size_t errlen)
{
	struct ruletext_job job = { .numeric = true };
	struct nfp_chain *listed[64];
	size_t nlisted = 0;
	char cmd[1024];
	int ret = 0;

	for (size_t i = 0; !ret && i < p->nsteps && nlisted < 64; i++) {
		const struct trace_step *st = &p->steps[i];
		struct nfp_table *t = st->kind == TRACE_RULE
				      ? (struct nfp_table *)ruleset_find_table(&sb->copy, st->family,
									      st->table) : NULL;
		struct nfp_chain *c = t ? (struct nfp_chain *)ruleset_find_chain(t, st->chain) : NULL;

		if (!c || c->text_loaded)
			continue;
		/* a chain binding has no name nft takes: listed with its table */
		ruletext_command(t->family, t->name, c->binding ? NULL : c->name, cmd, sizeof(cmd));
		ret = ruletext_plan_add(&job, cmd);
		c->text_loaded = true;
		listed[nlisted++] = c;
	}
	if (!ret && job.ncmds && !(ret = ruletext_start(&job)))
		ret = ruletext_wait(&job);
	if (!ret && job.ncmds && ruletext_join(&sb->copy, job.text ? job.text : "") < 0)
		ret = -ENOMEM;
	if (ret) {
		/* asked again at the next answer */
		for (size_t i = 0; i < nlisted; i++)
			listed[i]->text_loaded = false;
		snprintf(err, errlen, "sandbox: cannot list the copy's rule text: %s",
			 job.errmsg[0] ? job.errmsg : strerror(-ret));
	}
	ruletext_job_free(&job);
	return ret;
}

/* The change, in the sandbox: a script run by libnftables, or tables put
 * back by the restore code */
static int change_copy(struct sandbox *sb, const char *script, const char *include_dir,
		       const struct snapshot *tables, char *err, size_t errlen)
{
	struct nft_ctx *ctx;
	int ret = 0;

	if (tables)
		return snapshot_restore(&sb->nl, tables, 0, 0, NULL, err, errlen);
	ctx = ruletext_ctx(0, false);
	if (!ctx) {
		snprintf(err, errlen, "cannot start libnftables");
		return -ENOMEM;
	}
	if (include_dir)
		nft_ctx_add_include_path(ctx, include_dir);
	if (nft_run_cmd_from_buffer(ctx, script) != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);

		snprintf(err, errlen, "%s", e && *e ? e : "nft refused the change");
		ret = -EINVAL;
	}
	nft_ctx_free(ctx);
	return ret;
}

/* A table of the sandbox's own (its tracing table, its table of
 * admissions): never copied, never put back. */
static bool own_table(uint32_t family, const char *name)
{
	return family == NFPROTO_INET &&
	       (!strcmp(name, BULK_TABLE) ||
		!strncmp(name, TRACE_TABLE_PREFIX, strlen(TRACE_TABLE_PREFIX)));
}

static struct snap_table *snap_find(const struct snapshot *s, uint32_t family, const char *name)
{
	for (size_t i = 0; i < s->ntables; i++)
		if (s->tables[i].family == family && !strcmp(s->tables[i].name, name))
			return &s->tables[i];
	return NULL;
}

/* A table of the copy is gone, or changed: its own are made again when
 * next needed */
static void own_gone(struct sandbox *sb, const char *name)
{
	if (!strcmp(name, BULK_TABLE))
		sb->bulk = false;
	else if (sb->tracing) {
		trace_close(&sb->trace);
		sb->tracing = false;
	}
}

/* The tables of fresh (read from the copy) in place of theirs in
 * sb->copied and sb->copy (absent ones: gone from both); fresh is emptied. */
static int merge(struct sandbox *sb, struct snapshot *fresh)
{
	int ret = 0;

	for (size_t i = 0; i < fresh->ntables; i++) {
		struct snap_table *ft = &fresh->tables[i];
		struct snap_table *st = snap_find(&sb->copied, ft->family, ft->name);
		const struct nfp_table *ct = sb->derived ? ruleset_find_table(&sb->copy, ft->family,
									     ft->name) : NULL;

		if (ct) {
			size_t k = (size_t)(ct - sb->copy.tables);

			ruleset_table_free(&sb->copy.tables[k]);
			memmove(&sb->copy.tables[k], &sb->copy.tables[k + 1],
				(sb->copy.ntables - k - 1) * sizeof(*sb->copy.tables));
			sb->copy.ntables--;
		}
		if (!ret && sb->derived)
			ret = reader_from_snapshot(ft, &sb->copy);
		if (st)
			snapshot_table_free(st);
		if (ft->absent) {
			if (st) {
				size_t k = (size_t)(st - sb->copied.tables);

				memmove(st, st + 1, (sb->copied.ntables - k - 1) * sizeof(*st));
				sb->copied.ntables--;
			}
			snapshot_table_free(ft);
			continue;
		}
		if (!st && !(st = grow_slot(&sb->copied.tables, &sb->copied.ntables,
					    &sb->copied.tables_cap, sizeof(*st), 8))) {
			snapshot_table_free(ft);
			ret = -ENOMEM;
			continue;
		}
		*st = *ft;
		memset(ft, 0, sizeof(*ft));
	}
	sb->copied.genid = fresh->genid;
	free(fresh->tables);
	memset(fresh, 0, sizeof(*fresh));
	return ret;
}

static int touch(struct sandbox *sb, uint32_t family, const char *name)
{
	struct changed_table *t;

	for (size_t i = 0; i < sb->ntouched; i++)
		if (sb->touched[i].family == family && !strcmp(sb->touched[i].name, name))
			return 0;
	t = grow_slot(&sb->touched, &sb->ntouched, &sb->touched_cap, sizeof(*t), 8);
	if (!t || !(t->name = strdup(name))) {
		if (t)
			sb->ntouched--;
		return -ENOMEM;
	}
	t->family = family;
	return 0;
}

/* Read again what a change touched: the tables w names (NULL: the watch
 * could not tell; every table the copy or the host has), into copied and
 * copy, and noted as touched. */
static int reread(struct sandbox *sb, const struct changed_watch *w, char *err, size_t errlen)
{
	struct snapshot fresh = { 0 };
	struct snap_id *ids;
	size_t n = 0, cap = w ? w->ntables : sb->copied.ntables + sb->real.ntables;
	int ret = 0;

	if (!(ids = calloc(cap + 1, sizeof(*ids)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; w && i < w->ntables; i++) {
		if (own_table(w->tables[i].family, w->tables[i].name))
			own_gone(sb, w->tables[i].name);
		else
			ids[n++] = (struct snap_id){ w->tables[i].family, w->tables[i].name };
	}
	if (!w) {
		/* whatever the change did to the sandbox's own tables */
		sb->bulk = false;
		own_gone(sb, TRACE_TABLE_PREFIX);
		for (size_t i = 0; i < sb->copied.ntables; i++)
			ids[n++] = (struct snap_id){ sb->copied.tables[i].family,
						     sb->copied.tables[i].name };
		for (size_t i = 0; i < sb->real.ntables; i++)
			if (!own_table(sb->real.tables[i].family, sb->real.tables[i].name) &&
			    !snap_find(&sb->copied, sb->real.tables[i].family, sb->real.tables[i].name))
				ids[n++] = (struct snap_id){ sb->real.tables[i].family,
							     sb->real.tables[i].name };
		/* and those it made: any table but the sandbox's own */
		ret = snapshot_take(&sb->nl, NULL, 0, true, &fresh, err, errlen);
		for (size_t i = 0; !ret && i < fresh.ntables; i++) {
			const struct snap_table *t = &fresh.tables[i];
			bool known = own_table(t->family, t->name);
			struct snap_id *more;

			for (size_t k = 0; k < n && !known; k++)
				known = ids[k].family == t->family && !strcmp(ids[k].name, t->name);
			if (known)
				continue;
			if (!(more = realloc(ids, (n + 2) * sizeof(*ids)))) {
				ret = -ENOMEM;
				break;
			}
			ids = more;
			ids[n++] = (struct snap_id){ t->family, t->name };
		}
	}
	for (size_t i = 0; !ret && i < n; i++)
		ret = touch(sb, ids[i].family, ids[i].name);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	/* the names in ids are fresh's until it goes */
	if (!ret && n) {
		struct snapshot skel = fresh;

		memset(&fresh, 0, sizeof(fresh));
		ret = snapshot_take(&sb->nl, ids, n, false, &fresh, err, errlen);
		snapshot_free(&skel);
		if (!ret && (ret = merge(sb, &fresh)))
			snprintf(err, errlen, "out of memory");
	}
	snapshot_free(&fresh);
	free(ids);
	return ret;
}

/* The tables the changes touched put back as the host has them (sb->real),
 * or deleted where the host has none: the copy is the host's again. Their
 * rules have new handles: read again, mapped again. */
static int put_back(struct sandbox *sb, char *err, size_t errlen)
{
	struct snapshot back = { 0 }, fresh = { 0 };
	struct snap_id *ids = calloc(sb->ntouched + 1, sizeof(*ids));
	int ret = 0;

	back.tables = calloc(sb->ntouched + 1, sizeof(*back.tables));
	if (!ids || !back.tables) {
		free(ids);
		free(back.tables);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sb->ntouched; i++) {
		const struct changed_table *t = &sb->touched[i];
		const struct snap_table *rt = snap_find(&sb->real, t->family, t->name);

		ids[i] = (struct snap_id){ t->family, t->name };
		back.tables[i] = rt ? *rt : (struct snap_table){ .family = t->family,
								  .name = t->name, .absent = true };
	}
	back.ntables = sb->ntouched;
	if (back.ntables)
		ret = snapshot_restore(&sb->nl, &back, 0, 0, NULL, err, errlen);
	if (!ret && back.ntables)
		ret = snapshot_take(&sb->nl, ids, back.ntables, false, &fresh, err, errlen);
	if (!ret && back.ntables)
		ret = map_tables(sb, &back, &fresh, err, errlen);
	if (!ret && back.ntables && (ret = merge(sb, &fresh)))
		snprintf(err, errlen, "out of memory");
	snapshot_free(&fresh);
	free(back.tables);
	free(ids);
	if (ret)
		return ret;
	for (size_t i = 0; i < sb->ntouched; i++)
		free(sb->touched[i].name);
	sb->ntouched = 0;
	sb->staged = false;
	free(sb->script);
	sb->script = NULL;
	return 0;
}

/* Run the change on the copy, the kernel telling which tables it touched;
 * read those again. */
static int change(struct sandbox *sb, const char *script, const char *include_dir,
		  const struct snapshot *tables, char *err, size_t errlen)
{
	struct changed_watch w;
	uint32_t before = 0, after = 0;
	bool told = false, watching;
	char why[512];
	int ret, r;

	if (!sb->derived) {
		for (size_t i = 0; i < sb->copied.ntables; i++)
			if ((ret = reader_from_snapshot(&sb->copied.tables[i], &sb->copy))) {
				snprintf(err, errlen, "out of memory");
				return ret;
			}
		sb->derived = true;
	}
	watching = !nl_genid(&sb->nl, &before) && !changed_start(&w, why, sizeof(why));
	ret = change_copy(sb, script, include_dir, tables, err, errlen);
	if (watching) {
		/* a refused transaction commits nothing: no generation */
		told = nl_genid(&sb->nl, &after) == 0 &&
		       (changed_stop(&w, after) || (!w.lost && after == before));
		told = told && (!ret || after == before);
	}
	if (!ret)
		sb->staged = true;
	if ((!ret || !told) && (r = reread(sb, told ? &w : NULL, why, sizeof(why)))) {
		snprintf(err, errlen, "%s", why);
		ret = r == -EINVAL ? -EIO : r; /* -EINVAL: nft refusing the change */
	}
	if (watching)
		changed_free(&w);
	return ret;
}

/* script begins with staged, whole lines of it: what is left, else NULL */
static const char *rest_of(const char *staged, const char *script)
{
	size_t n = staged ? strlen(staged) : 0;

	if (!n || staged[n - 1] != '\n' || strncmp(staged, script, n) != 0)
		return NULL;
	return script + n;
}

static int stage(struct sandbox *sb, const char *script, const char *include_dir,
		 const struct snapshot *tables, char *err, size_t errlen)
{
	const char *run = script, *rest;
	bool nothing = !tables && !script[strspn(script, " \t\n")];
	char why[512] = "";
	int ret;

	err[0] = 0;
	/* a script is known by its text when it includes no file */
	if (script && include_dir)
		rest = NULL;
	else if (script && sb->script && !strcmp(script, sb->script))
		return 0;
	else
		rest = script ? rest_of(sb->script, script) : NULL;
	if (nothing && !sb->staged)
		return 0;
	if ((ret = enter(sb->ns))) {
		snprintf(err, errlen, "sandbox: cannot enter it: %s", strerror(-ret));
		goto closed;
	}
	if (rest) {
		run = rest;
	} else if (sb->staged && (ret = put_back(sb, why, sizeof(why)))) {
		/* not nft refusing the change: the copy is no longer known */
		snprintf(err, errlen, "sandbox: the tables staged before could not be put back: "
			 "%s", why);
		ret = ret == -EINVAL ? -EIO : ret;
		goto failed;
	}
	if (!nothing)
		ret = change(sb, run, include_dir, tables, err, errlen);
	if (!ret && script && !include_dir && sb->staged) {
		free(sb->script);
		if (!(sb->script = strdup(script)))
			ret = -ENOMEM;
	} else if (!ret) {
		free(sb->script);
		sb->script = NULL;
	}
	/* refused: the host's ruleset, nothing staged */
	if (ret == -EINVAL && sb->staged && put_back(sb, why, sizeof(why)))
		ret = -EIO;
	/* what the sandbox cannot vouch for, in the copy as it is now */
	if ((!ret || ret == -EINVAL) && find_unsure(sb, sb->staged ? &sb->copied : &sb->real,
						     why, sizeof(why)))
		ret = -ENOMEM;
	if (enter(sb->home) < 0 && (!ret || ret == -EINVAL)) {
		ret = -errno;
		snprintf(err, errlen, "sandbox: cannot come back to this namespace: %s",
			 strerror(errno));
	}
	if (!ret || ret == -EINVAL)
		return ret;
failed:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	else if (!err[0])
		snprintf(err, errlen, "sandbox: %s", why[0] ? why : strerror(-ret));
closed:
	/* not the copy it should be: gone, and said so (sandbox_is_open) */
	if (enter(sb->home) < 0) {
		/* sandbox_close leaves the namespace with its last fd */
	}
	sandbox_close(sb);
	return ret;
}

bool sandbox_stage_adds(const struct sandbox *sb, const char *script)
{
	return sb->script && (!strcmp(sb->script, script) || rest_of(sb->script, script));
}

bool sandbox_is_open(const struct sandbox *sb)
{
	return sb->ns >= 0;
}

int sandbox_stage(struct sandbox *sb, const char *script, const char *include_dir, char *err,
		  size_t errlen)
{
	return stage(sb, script, include_dir, NULL, err, errlen);
}

int sandbox_stage_tables(struct sandbox *sb, const struct snapshot *tables, char *err,
			 size_t errlen)
{
	return stage(sb, NULL, NULL, tables, err, errlen);
}

/* ---- many questions at once: sandbox_admits ---- */

#define BULK_KEY 44   /* the longest key: proto, two IPv6 addresses, two ports */

/* The bulk table (sandbox.h): arrivals first of prerouting, admissions
 * last of input and of postrouting (loopback left to input). nft 1.0.6
 * types `ct original proto-src` only after a protocol match: a rule a
 * protocol. Constant text: nothing in it comes from outside. */
static int bulk_table(char *err, size_t errlen)
{
	static const char *const protos[] = { "tcp", "udp", "sctp" };
	static const char *const hooks[][2] = { { "admit_in", "input" },
						{ "admit_out", "postrouting" } };
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	struct nft_ctx *ctx;
	int ret = 0;

	if (!fp)
		return -ENOMEM;
	fprintf(fp, "table inet " BULK_TABLE " {\n");
	for (int v = 4; v <= 6; v += 2)
		fprintf(fp, "set arrived%d { type inet_proto . ipv%d_addr . ipv%d_addr . "
			"inet_service . inet_service; flags dynamic; size %d; }\n"
			"set admitted%d { type inet_proto . ipv%d_addr . ipv%d_addr . "
			"inet_service . inet_service; flags dynamic; size %d; }\n",
			v, v, v, 4 * SANDBOX_BULK_MAX, v, v, v, 4 * SANDBOX_BULK_MAX);
	fprintf(fp, "chain arrive { type filter hook prerouting priority -2147483648;\n"
		"meta nfproto ipv4 add @arrived4 { meta l4proto . ip saddr . ip daddr . "
		"th sport . th dport }\n"
		"meta nfproto ipv6 add @arrived6 { meta l4proto . ip6 saddr . ip6 daddr . "
		"th sport . th dport }\n"
		"ip saddr 0.0.0.0 ip daddr 0.0.0.0 drop\n}\n");
	for (int h = 0; h < 2; h++) {
		fprintf(fp, "chain %s { type filter hook %s priority 2147483647;\n", hooks[h][0],
			hooks[h][1]);
		if (h == 1)
			fprintf(fp, "oif \"lo\" return\n");
		/* untracked (notrack): no NAT either, the packet as sent */
		fprintf(fp, "ct state untracked meta nfproto ipv4 add @admitted4 { meta l4proto . "
			"ip saddr . ip daddr . th sport . th dport }\n"
			"ct state untracked meta nfproto ipv6 add @admitted6 { meta l4proto . "
			"ip6 saddr . ip6 daddr . th sport . th dport }\n");
		for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			for (int v = 4; v <= 6; v += 2)
				fprintf(fp, "meta nfproto ipv%d meta l4proto %s ct direction "
					"original add @admitted%d { meta l4proto . ct original "
					"ip%s saddr . ct original ip%s daddr . ct original "
					"proto-src . ct original proto-dst }\n", v, protos[i], v,
					v == 6 ? "6" : "", v == 6 ? "6" : "");
		fprintf(fp, "}\n");
	}
	fprintf(fp, "}\n");
	if (fclose(fp) != 0) {
		free(text);
		return -ENOMEM;
	}
	ctx = ruletext_ctx(0, false);
	if (!ctx) {
		ret = -ENOMEM;
	} else if (nft_run_cmd_from_buffer(ctx, text) != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);

		snprintf(err, errlen, "sandbox: its table of admissions was refused: %s",
			 e && *e ? e : "nft said nothing");
		ret = -EINVAL;
	}
	if (ctx)
		nft_ctx_free(ctx);
	free(text);
	return ret;
}

/* A packet's key as the bulk table's sets hold it: each field in 4-byte
 * words, ports in network order. */
struct bulk_key {
	uint8_t family;
	uint8_t k[BULK_KEY];
	uint32_t i;          /* index of the packet; the markers: UINT32_MAX */
};

static void bulk_keyof(struct bulk_key *bk, uint8_t family, uint8_t proto, const uint8_t *s,
		       const uint8_t *d, uint16_t sport, uint16_t dport)
{
	size_t alen = family == AF_INET ? 4 : 16;
	uint8_t *k = bk->k;

	memset(k, 0, BULK_KEY);
	bk->family = family;
	k[0] = proto;
	memcpy(k + 4, s, alen);
	memcpy(k + 4 + alen, d, alen);
	k[4 + 2 * alen] = (uint8_t)(sport >> 8);
	k[5 + 2 * alen] = (uint8_t)sport;
	k[8 + 2 * alen] = (uint8_t)(dport >> 8);
	k[9 + 2 * alen] = (uint8_t)dport;
}

static int bulk_cmp(const void *a, const void *b)
{
	const struct bulk_key *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(x->k, y->k, BULK_KEY);
}

struct bulk_read {
	struct bulk_key *keys;   /* sorted */
	size_t n;
	uint8_t family;
	uint8_t *seen;           /* seen[keys[j].i] |= bit; markers: marks[] */
	uint8_t bit;
	bool *marks;             /* by marker number */
	size_t nmarks;
};

static int bulk_elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct bulk_read *r = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	int ret = MNL_CB_OK;

	if (!s || nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	it = nftnl_set_elems_iter_create(s);
	for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e; e = nftnl_set_elems_iter_next(it)) {
		uint32_t len = 0;
		const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		struct bulk_key key = { .family = r->family };
		struct bulk_key *hit;

		if (!k || len > BULK_KEY)
			continue;
		memcpy(key.k, k, len);
		hit = bsearch(&key, r->keys, r->n, sizeof(key), bulk_cmp);
		if (!hit)
			continue;
		/* the same tuple in another zone: every one of them */
		while (hit > r->keys && !bulk_cmp(hit - 1, &key))
			hit--;
		for (; hit < r->keys + r->n && !bulk_cmp(hit, &key); hit++) {
			if (hit->i != UINT32_MAX)
				r->seen[hit->i] |= r->bit;
			else if (r->marks && (size_t)(hit->k[16] << 8 | hit->k[17]) < r->nmarks)
				r->marks[hit->k[16] << 8 | hit->k[17]] = true;
		}
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return ret;
}

static int bulk_dump(struct sandbox *sb, const char *set, struct bulk_read *r)
{
	struct nlmsghdr *req = nl_request(&sb->nl, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP);

	mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_TABLE, BULK_TABLE);
	mnl_attr_put_strz(req, NFTA_SET_ELEM_LIST_SET, set);
	return nl_talk(&sb->nl, req, bulk_elems_cb, r);
}

/* The four sets emptied, in one transaction. */
static int bulk_flush(struct sandbox *sb, char *err, size_t errlen)
{
	static const char *const sets[] = { "arrived4", "arrived6", "admitted4", "admitted6" };
	struct batch b;
	int tag, ret = batch_open(&b, 0);

	for (size_t i = 0; !ret && i < sizeof(sets) / sizeof(sets[0]); i++) {
		struct nlmsghdr *nlh = batch_msg(&b, NFT_MSG_DELSETELEM, NFPROTO_INET, NLM_F_ACK);

		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, BULK_TABLE);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, sets[i]);
		batch_push(&b, -1);
	}
	if (!ret)
		ret = batch_commit(&sb->nl, &b, &tag, err, errlen);
	batch_free(&b);
	return ret;
}

/* Bits of seen[] */
enum { BULK_SENT = 1, BULK_ARRIVED = 2, BULK_ADMITTED = 4, BULK_IN = 8 };

/* The conntrack entries the packets made in the sandbox, deleted by their
 * original tuple (the tuple as sent) in one send: flushing the sandbox's
 * table would walk every entry of the host's (the kernel has one table for
 * all namespaces), slice after slice. Entries a rule moved to another zone
 * stay until the sandbox goes. */
static void forget_ct(struct sandbox *sb, const struct packet *ps, const uint8_t *seen, size_t n)
{
	size_t cap = 256 * (n + 1), len = 0, asked = 0, answered = 0;
	char *buf = malloc(cap), *rbuf = malloc(NL_RECV_SIZE);

	for (size_t i = 0; buf && rbuf && i < n; i++) {
		const struct packet *p = &ps[i];
		size_t alen = p->family == AF_INET ? 4 : 16;
		struct ct_tuple t = { .sport = p->sport, .dport = p->dport };
		struct nlmsghdr *nlh;

		if (!(seen[i] & BULK_SENT))
			continue;
		memset(buf + len, 0, 256);
		nlh = ct_nl_request(buf + len, IPCTNL_MSG_CT_DELETE, p->family, NLM_F_ACK, ++sb->seq);
		memcpy(t.src.b, p->saddr, alen);
		memcpy(t.dst.b, p->daddr, alen);
		ct_nl_put_tuple(nlh, CTA_TUPLE_ORIG, p->family, p->proto, &t);
		len += NLMSG_ALIGN(nlh->nlmsg_len);
		asked++;
	}
	if (buf && rbuf && asked && mnl_socket_sendto(sb->ct, buf, len) >= 0)
		while (answered < asked) {
			ssize_t got = mnl_socket_recvfrom(sb->ct, rbuf, NL_RECV_SIZE);
			int left = (int)got;
			const struct nlmsghdr *h = (const void *)rbuf;

			if (got <= 0)
				break;
			for (; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left))
				answered += h->nlmsg_type == NLMSG_ERROR;
		}
	free(buf);
	free(rbuf);
}


static int admits(struct sandbox *sb, const struct packet *ps, size_t n, uint8_t *verdict,
		  struct bulk_key *keys, uint8_t *seen, char *err, size_t errlen)
{
	/* the interfaces packets came in on this time, and loopback (index 0) */
	const struct sandbox_link *used[SANDBOX_BULK_MAX + 1];
	bool marks[SANDBOX_BULK_MAX + 1] = { 0 };
	struct sandbox_link lo = { .index = 1, .peer = 1, .up = true, .ready = true };
	size_t nused = 0, nkeys = 0;
	struct bulk_read r = { .keys = keys, .seen = seen, .marks = marks };
	double end;
	int ret;

	if (!sb->bulk) {
		if ((ret = bulk_table(err, errlen)))
			return ret;
		sb->bulk = true;
	}
	for (size_t i = 0; i < n; i++) {
		const struct packet *p = &ps[i];
		struct sandbox_link *in = NULL;
		bool known = false;
		char why[256];

		if ((p->family != AF_INET && p->family != AF_INET6) ||
		    (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP &&
		     p->proto != IPPROTO_SCTP) || p->state != PACKET_NEW)
			continue;
		if (!sandbox_is_local(sb, p->family, p->saddr)) {
			/* no way in, or one that takes nothing: not asked */
			if (!(in = link_to_source(sb, p)) || !in->up)
				continue;
			wait_ready(sb, in);
			if (!in->ready)
				continue;
		}
		if (send_packet(sb, p, in, why, sizeof(why)))
			continue;
		seen[i] = BULK_SENT | (in || sandbox_is_local(sb, p->family, p->daddr) ? BULK_IN : 0);
		if (!in && sandbox_is_local(sb, p->family, p->daddr))
			in = &lo;
		bulk_keyof(&keys[nkeys], p->family, p->proto, p->saddr, p->daddr, p->sport,
			   p->dport);
		keys[nkeys++].i = (uint32_t)i;
		if (!in)
			continue;
		for (size_t u = 0; u < nused && !known; u++)
			known = used[u] == in;
		if (!known)
			used[nused++] = in;
	}
	/* after the last packet, one marker down each way used: a queue is
	 * worked in order, so once a marker has arrived, every packet sent
	 * before it the same way has been decided */
	for (size_t u = 0; u < nused; u++) {
		struct packet m = { .family = AF_INET, .proto = IPPROTO_UDP, .dport = (uint16_t)u };
		uint8_t zero[16] = { 0 };
		char why[256];

		bulk_keyof(&keys[nkeys], AF_INET, IPPROTO_UDP, zero, zero, 0, (uint16_t)u);
		keys[nkeys++].i = UINT32_MAX;
		if (send_packet(sb, &m, used[u], why, sizeof(why)))
			marks[u] = true; /* nothing to wait for: its packets are unsure */
	}
	qsort(keys, nkeys, sizeof(*keys), bulk_cmp);
	r.n = nkeys;
	r.nmarks = nused;
	end = mono_now() + 1.0;
	for (;;) {
		bool all = true;

		r.family = AF_INET;
		r.bit = BULK_ARRIVED;
		if ((ret = bulk_dump(sb, "arrived4", &r)))
			goto failed;
		for (size_t u = 0; u < nused; u++)
			all = all && marks[u];
		if (all || mono_now() > end)
			break;
		usleep(200);
	}
	r.family = AF_INET6;
	if ((ret = bulk_dump(sb, "arrived6", &r)))
		goto failed;
	r.marks = NULL;
	r.bit = BULK_ADMITTED;
	if ((ret = bulk_dump(sb, "admitted6", &r)))
		goto failed;
	r.family = AF_INET;
	if ((ret = bulk_dump(sb, "admitted4", &r)))
		goto failed;
	for (size_t i = 0; i < n; i++)
		verdict[i] = seen[i] & BULK_ADMITTED ? SANDBOX_ADMITTED
			     : !(seen[i] & BULK_SENT) ? SANDBOX_UNSURE
			     : (seen[i] & BULK_IN) && !(seen[i] & BULK_ARRIVED) ? SANDBOX_UNSURE
			     : SANDBOX_REFUSED;
	return bulk_flush(sb, err, errlen);
failed:
	snprintf(err, errlen, "sandbox: reading its table of admissions: %s", nl_strerror(ret));
	return ret;
}

int sandbox_admits(struct sandbox *sb, const struct packet *ps, size_t n, uint8_t *verdict,
		   char *err, size_t errlen)
{
	struct bulk_key *keys = calloc(n + SANDBOX_BULK_MAX + 1, sizeof(*keys));
	uint8_t *seen = calloc(n ? n : 1, 1);
	cpu_set_t old, one;
	bool pinned = false;
	int ret, cpu;

	for (size_t i = 0; i < n; i++)
		verdict[i] = SANDBOX_UNSURE;
	if (n > SANDBOX_BULK_MAX || !keys || !seen) {
		free(keys);
		free(seen);
		snprintf(err, errlen, n > SANDBOX_BULK_MAX ? "sandbox: more than %d packets at once"
			 : "out of memory", SANDBOX_BULK_MAX);
		return n > SANDBOX_BULK_MAX ? -EINVAL : -ENOMEM;
	}
	if ((ret = enter(sb->ns))) {
		free(keys);
		free(seen);
		snprintf(err, errlen, "sandbox: cannot enter it: %s", strerror(-ret));
		return ret;
	}
	/* every packet is traced once the tracing table is there: gone, it
	 * is made again at the next question */
	if (sb->tracing) {
		trace_close(&sb->trace);
		sb->tracing = false;
	}
	/* one CPU, so that the packets and their markers share its queues */
	cpu = sched_getcpu();
	if (cpu >= 0 && !sched_getaffinity(0, sizeof(old), &old)) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pinned = !sched_setaffinity(0, sizeof(one), &one);
	}
	ret = admits(sb, ps, n, verdict, keys, seen, err, errlen);
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
	forget_ct(sb, ps, seen, n);
	free(keys);
	free(seen);
	if (enter(sb->home) < 0 && !ret) {
		ret = -errno;
		snprintf(err, errlen, "sandbox: cannot come back to this namespace: %s",
			 strerror(errno));
	}
	return ret;
}
