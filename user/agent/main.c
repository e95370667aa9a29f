// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vclusterd: the vcluster agent.
 *
 *	vclusterd [-c FILE] [--check-config] [--log-level L] [--syslog]
 *		  [--fencer PATH] [--bootstrap]
 *
 * It always runs in the foreground: systemd (Type=notify, see
 * vclusterd.service), runit, s6 and the tests all want that; a classic
 * init script can use start-stop-daemon --background.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "agent.h"
#include "log.h"

#define DEFAULT_CONFIG	"/etc/vcluster/vcluster.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vclusterd [-c FILE] [--check-config] [--log-level LEVEL] [--syslog]\n"
		"                 [--fencer PATH] [--bootstrap]\n"
		"\n"
		"  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
		"      --check-config  check the configuration and the key file, print a\n"
		"                      summary and exit (0: valid, 78: not)\n"
		"      --log-level L   err, warning, notice, info or debug (overrides [agent])\n"
		"      --syslog        log to syslog instead of stderr\n"
		"      --fencer PATH   the vcluster-fencer binary (user transport)\n"
		"      --bootstrap     form a new cluster from the configured members if the\n"
		"                      data directory is empty (same as 'vclusterctl cluster\n"
		"                      bootstrap'; run it on one voter, or on every voter)\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"\n"
		"Exit codes: 0 stopped cleanly, 1 failed, 2 usage, 3 fenced, 78 bad config.\n"
		"See vclusterd(8).\n");
}

static void print_summary(const struct vcd_aconf *ac)
{
	static const char *const transports[] = { "auto", "kernel", "user" };
	const struct vc_agent_cfg *a = &ac->cfg.agent;
	size_t i;

	printf("%s: valid\n", ac->path);
	printf("cluster %s (id %u), node %u, transport %s\n", a->cluster_name,
	       ac->cfg.node.cluster_id, ac->node_id, transports[a->transport]);
	printf("%u voter%s, %zu standby; raft on port %u (link%u), election timeout %u ms\n",
	       ac->voters, ac->voters == 1 ? "" : "s", ac->n_members - ac->voters,
	       a->raft_port, a->raft_link, a->election_timeout_ms);
	for (i = 0; i < ac->n_members; i++)
		printf("  node %llu %-8s %s%s\n", (unsigned long long)ac->members[i].id,
		       ac->members[i].role == VCD_CONS_VOTER ? "voter" : "standby",
		       ac->members[i].addr, i == 0 ? " (this host)" : "");
	printf("data %s, control socket %s, key %s\n", ac->data_dir, ac->socket_path,
	       ac->have_key ? ac->key_path : "none (insecure)");
	printf("fencing: %s\n", ac->cfg.has_fence ? "armed once in touch with a quorum" :
	       "not armed (no [fence] section)");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "fencer", required_argument, NULL, 'F' },
		{ "bootstrap", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	const char *config = DEFAULT_CONFIG, *level_name = NULL;
	struct vcd_run_opts opts = { 0 };
	bool check = false, use_syslog = false;
	static struct vcd_aconf ac;
	char err[1024];
	int c, level, r;

	/* libxml2 (OCF meta-data, and libvirt's own use) sets itself up
	 * once, here, before any thread can race to do it. */
	xmlInitParser();
	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'C': check = true; break;
		case 'L': level_name = optarg; break;
		case 'S': use_syslog = true; break;
		case 'F': opts.fencer_path = optarg; break;
		case 'B': opts.bootstrap = true; break;
		case 'h': usage(stdout); return VCD_EXIT_OK;
		case 'V': printf("vclusterd %s\n", VC_VERSION); return VCD_EXIT_OK;
		default: usage(stderr); return VCD_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vclusterd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return VCD_EXIT_USAGE;
	}
	if (level_name && vcd_log_parse_level(level_name, &level) < 0) {
		fprintf(stderr, "vclusterd: --log-level: '%s' is not a level (valid: err, warning, notice, info, debug)\n",
			level_name);
		return VCD_EXIT_USAGE;
	}
	r = vcd_aconf_load(config, &ac, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "vclusterd: %s\n", err);
		return VCD_EXIT_CONFIG;
	}
	if (check) {
		print_summary(&ac);
		vcd_aconf_wipe(&ac);
		return VCD_EXIT_OK;
	}
	vcd_log_init("vclusterd", use_syslog || ac.cfg.agent.syslog,
		     level_name ? level : ac.log_level);
	r = vcd_agent_run(&ac, &opts);
	vcd_aconf_wipe(&ac);
	return r;
}
