// SPDX-License-Identifier: GPL-2.0 OR MIT
/* vclusterd's config checks and derived settings.  See aconf.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../keyfile.h"
#include "../parse.h"
#include "aconf.h"
#include "log.h"

#define MAX_CONFIG_BYTES	(1u << 20)

static int cerr(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cerr(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

uint32_t vcd_aconf_node_votes(const struct vc_node_cfg *node)
{
	return (node->set & VC_NODE_F_VOTES) ? node->votes : 1;
}

uint32_t vcd_aconf_peer_votes(const struct vc_peer_cfg *peer)
{
	return peer->has_votes ? peer->votes : 1;
}

const struct vc_peer_cfg *vcd_aconf_peer(const struct vcd_aconf *ac, uint32_t node_id)
{
	size_t i;

	for (i = 0; i < ac->cfg.n_peers; i++)
		if (ac->cfg.peers[i].node_id == node_id)
			return &ac->cfg.peers[i];
	return NULL;
}

void vcd_aconf_wipe(struct vcd_aconf *ac)
{
	explicit_bzero(ac->key, sizeof(ac->key));
	ac->have_key = false;
}

static int read_text(const char *path, char **ret, size_t *ret_len, char *err, size_t size)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, size, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_CONFIG_BYTES) {
		close(fd);
		return cerr(err, size, "%s: not a regular file of at most %u bytes", path,
			    MAX_CONFIG_BYTES);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)st.st_size);
	e = errno;
	close(fd);
	if (n < 0) {
		free(buf);
		snprintf(err, size, "%s: cannot read: %s", path, strerror(e));
		return -e;
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

/*
 * @rel relative to the config file's directory, unless absolute; the
 * result is absolute so that it survives a chdir.  -ENAMETOOLONG if it
 * does not fit.
 */
static int resolve(const char *conf, const char *rel, char *out, size_t size)
{
	const char *slash = strrchr(conf, '/');
	char dir[PATH_MAX] = ".";
	int n;

	if (rel[0] == '/')
		n = snprintf(out, size, "%s", rel);
	else if (slash && conf[0] == '/')
		n = snprintf(out, size, "%.*s/%s", (int)(slash - conf), conf, rel);
	else if (!getcwd(dir, sizeof(dir)))
		return -errno;
	else if (slash)
		n = snprintf(out, size, "%s/%.*s/%s", dir, (int)(slash - conf), conf, rel);
	else
		n = snprintf(out, size, "%s/%s", dir, rel);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int check_node(const struct vcd_aconf *ac, char *err, size_t size)
{
	const struct vc_config *cfg = &ac->cfg;
	const struct vc_node_cfg *n = &cfg->node;

	if (!cfg->has_node)
		return cerr(err, size, "%s: no [node] section (valid: [node] with cluster-id, node-id and link0 = ADDRESS)",
			    ac->path);
	if (!(n->set & VC_NODE_F_CLUSTER_ID))
		return cerr(err, size, "%s: [node] has no cluster-id (valid: cluster-id = 1..4294967295, the same on every host)",
			    ac->path);
	if (!(n->set & VC_NODE_F_NODE_ID))
		return cerr(err, size, "%s: [node] has no node-id (valid: node-id = 1..4294967295, unique per host)",
			    ac->path);
	if (!cfg->key_file[0] && !n->insecure)
		return cerr(err, size, "%s: [node] has no key-file (valid: key-file = PATH of 64 hex digits, or insecure = yes for tests)",
			    ac->path);
	return 0;
}

/* "198.18.0.1:5421" / "[fd00::1]:5421" for raft on @addr. */
static int raft_addr(const struct vc_addr *addr, uint16_t port, char *out, size_t size)
{
	struct vc_addr a = *addr;
	char buf[VC_ADDR_STRLEN];

	a.port = 0;
	vc_format_addr(&a, buf, sizeof(buf));
	if (a.family == AF_INET6)
		snprintf(out, size, "[%s]:%u", buf, port);
	else
		snprintf(out, size, "%s:%u", buf, port);
	return 0;
}

static int add_member(struct vcd_aconf *ac, uint32_t id, const struct vc_addr *link,
		      uint32_t votes)
{
	struct vcd_cons_member *m = &ac->members[ac->n_members++];

	m->id = id;
	m->role = votes ? VCD_CONS_VOTER : VCD_CONS_STANDBY;
	ac->voters += votes ? 1 : 0;
	return raft_addr(link, ac->cfg.agent.raft_port, m->addr, sizeof(m->addr));
}

static int derive_members(struct vcd_aconf *ac, char *err, size_t size)
{
	const struct vc_config *cfg = &ac->cfg;
	uint32_t l = cfg->agent.raft_link;
	size_t i;

	if (!cfg->node.links[l].family)
		return cerr(err, size, "%s:%u: key 'raft-link' in [agent]: [node] has no link%u (valid: a link id that [node] and every [peer N] have)",
			    ac->path, cfg->agent_line, l);
	add_member(ac, ac->node_id, &cfg->node.links[l], vcd_aconf_node_votes(&cfg->node));
	for (i = 0; i < cfg->n_peers; i++) {
		const struct vc_peer_cfg *p = &cfg->peers[i];

		if (!p->links[l].family)
			return cerr(err, size, "%s:%u: [peer %u] has no link%u, which raft uses (valid: add link%u, or set raft-link in [agent])",
				    ac->path, p->line, p->node_id, l, l);
		add_member(ac, p->node_id, &p->links[l], vcd_aconf_peer_votes(p));
	}
	return 0;
}

static int check_votes(struct vcd_aconf *ac, char *err, size_t size)
{
	const struct vc_node_cfg *n = &ac->cfg.node;
	size_t i;

	if (vcd_aconf_node_votes(n) > 1)
		return cerr(err, size, "%s: key 'votes' in [node]: %u (valid: 0 for a standby host, 1 for a voter)",
			    ac->path, n->votes);
	for (i = 0; i < ac->cfg.n_peers; i++) {
		const struct vc_peer_cfg *p = &ac->cfg.peers[i];

		if (vcd_aconf_peer_votes(p) > 1)
			return cerr(err, size, "%s:%u: key 'votes' in [peer %u]: %u (valid: 0 for a standby host, 1 for a voter)",
				    ac->path, p->line, p->node_id, p->votes);
	}
	if (ac->voters == 2)
		return cerr(err, size, "%s: 2 voters: a two-voter cluster cannot survive the loss of either host, and a cut link would leave two equal halves (valid: 1, 3 or 5 voters; with two hosts, add a third as a witness that runs only vclusterd and vcluster.ko, with no VMs)",
			    ac->path);
	if (ac->voters % 2 == 0)
		return cerr(err, size, "%s: %u voters: an even number of voters can split into two equal halves (valid: an odd number, 1, 3 or 5; set votes = 0 on the others to make them standby hosts)",
			    ac->path, ac->voters);
	if (ac->voters > 7)
		return cerr(err, size, "%s: %u voters: every decision waits for a majority of them (valid: 1 to 7 voters, best 3 or 5; set votes = 0 on the others to make them standby hosts)",
			    ac->path, ac->voters);
	if ((n->set & VC_NODE_F_EXPECTED_VOTES) && n->expected_votes != ac->voters)
		return cerr(err, size, "%s: key 'expected-votes' in [node] is %u but %u hosts have votes (valid: leave it out, and vclusterd sets it to the number of voters)",
			    ac->path, n->expected_votes, ac->voters);
	return 0;
}

static int load_key(struct vcd_aconf *ac, char *err, size_t size)
{
	char why[VC_ERR_LEN];
	int r;

	if (!ac->cfg.key_file[0])
		return 0;
	r = resolve(ac->path, ac->cfg.key_file, ac->key_path, sizeof(ac->key_path));
	if (r < 0)
		return cerr(err, size, "%s:%u: key 'key-file' in [node]: the path is too long",
			    ac->path, ac->cfg.key_file_line);
	r = vc_key_read_file(ac->key_path, ac->key, why, sizeof(why));
	if (r < 0)
		return cerr(err, size, "%s:%u: key 'key-file' in [node]: %s", ac->path,
			    ac->cfg.key_file_line, why);
	ac->have_key = true;
	return 0;
}

static int check_agent(struct vcd_aconf *ac, char *err, size_t size)
{
	struct vc_agent_cfg *a = &ac->cfg.agent;

	if (a->raft_heartbeat_ms * 5 > a->election_timeout_ms)
		return cerr(err, size, "%s:%u: [agent]: raft-heartbeat-ms %u is more than a fifth of election-timeout-ms %u (valid: heartbeat at most election timeout / 5, so one lost heartbeat does not start an election)",
			    ac->path, ac->cfg.agent_line, a->raft_heartbeat_ms,
			    a->election_timeout_ms);
	if (vcd_log_parse_level(a->log_level, &ac->log_level) < 0)
		ac->log_level = LOG_INFO;
	if (resolve(ac->path, a->data_dir, ac->data_dir, sizeof(ac->data_dir)) < 0)
		return cerr(err, size, "%s:%u: key 'data-dir' in [agent]: the path is too long",
			    ac->path, ac->cfg.agent_line);
	snprintf(ac->raft_dir, sizeof(ac->raft_dir), "%s/raft", ac->data_dir);
	if (resolve(ac->path, a->control_socket, ac->socket_path, sizeof(ac->socket_path)) < 0 ||
	    strlen(ac->socket_path) >= 108)
		return cerr(err, size, "%s:%u: key 'control-socket' in [agent]: '%s' is too long for a Unix socket (valid: at most 107 characters)",
			    ac->path, ac->cfg.agent_line, ac->socket_path);
	return 0;
}

int vcd_aconf_load(const char *path, struct vcd_aconf *ac, char *err, size_t err_size)
{
	size_t len = 0;
	char *text = NULL;
	int r;

	memset(ac, 0, sizeof(*ac));
	snprintf(ac->path, sizeof(ac->path), "%s", path);
	r = read_text(path, &text, &len, err, err_size);
	if (r < 0)
		return r;
	r = vc_config_parse(text, len, path, &ac->cfg, err, err_size);
	free(text);
	if (r < 0)
		return r;
	r = check_node(ac, err, err_size);
	if (r < 0)
		return r;
	ac->node_id = ac->cfg.node.node_id;
	r = check_agent(ac, err, err_size);
	if (r < 0)
		return r;
	r = derive_members(ac, err, err_size);
	if (r < 0)
		return r;
	r = check_votes(ac, err, err_size);
	if (r < 0)
		return r;
	if (!(ac->cfg.node.set & VC_NODE_F_EXPECTED_VOTES)) {
		ac->cfg.node.expected_votes = ac->voters;
		ac->cfg.node.set |= VC_NODE_F_EXPECTED_VOTES;
	}
	return load_key(ac, err, err_size);
}
