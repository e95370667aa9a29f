// SPDX-License-Identifier: GPL-2.0
/*
 * vcluster: module init and exit, per-network-namespace instances and the
 * module parameters that give new instances their defaults.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "vc.h"

static unsigned int vc_param_interval_ms = VC_INTERVAL_MS_DEFAULT;
static unsigned int vc_param_misses = VC_MISSES_DEFAULT;
static unsigned int vc_param_port = VC_DEFAULT_PORT;
static unsigned int vc_param_fence_margin_ms = VC_FENCE_MARGIN_MS_DEFAULT;

static int vc_param_set_range(const char *val, const struct kernel_param *kp,
			      unsigned int min, unsigned int max)
{
	unsigned int v;
	int err;

	err = kstrtouint(val, 0, &v);
	if (err)
		return err;
	if (v < min || v > max)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static int vc_param_set_interval_ms(const char *val,
				    const struct kernel_param *kp)
{
	return vc_param_set_range(val, kp, VC_INTERVAL_MS_MIN,
				  VC_INTERVAL_MS_MAX);
}

static int vc_param_set_misses(const char *val, const struct kernel_param *kp)
{
	return vc_param_set_range(val, kp, VC_MISSES_MIN, VC_MISSES_MAX);
}

static int vc_param_set_port(const char *val, const struct kernel_param *kp)
{
	return vc_param_set_range(val, kp, 1, U16_MAX);
}

static int vc_param_set_fence_margin_ms(const char *val,
					const struct kernel_param *kp)
{
	return vc_param_set_range(val, kp, 0, VC_FENCE_MARGIN_MS_MAX);
}

static const struct kernel_param_ops vc_param_interval_ms_ops = {
	.set = vc_param_set_interval_ms,
	.get = param_get_uint,
};

static const struct kernel_param_ops vc_param_misses_ops = {
	.set = vc_param_set_misses,
	.get = param_get_uint,
};

static const struct kernel_param_ops vc_param_port_ops = {
	.set = vc_param_set_port,
	.get = param_get_uint,
};

static const struct kernel_param_ops vc_param_fence_margin_ms_ops = {
	.set = vc_param_set_fence_margin_ms,
	.get = param_get_uint,
};

module_param_cb(interval_ms, &vc_param_interval_ms_ops,
		&vc_param_interval_ms, 0644);
MODULE_PARM_DESC(interval_ms,
		 "Heartbeat interval in ms for new instances (default 10, range 1..60000)");
module_param_cb(misses, &vc_param_misses_ops, &vc_param_misses, 0644);
MODULE_PARM_DESC(misses,
		 "Missed intervals before a peer is DOWN, for new instances (default 3, range 2..1000)");
module_param_cb(port, &vc_param_port_ops, &vc_param_port, 0644);
MODULE_PARM_DESC(port,
		 "UDP port for new instances (default 5420, range 1..65535)");
module_param_cb(fence_margin_ms, &vc_param_fence_margin_ms_ops,
		&vc_param_fence_margin_ms, 0644);
MODULE_PARM_DESC(fence_margin_ms,
		 "Margin in ms added to each peer's fence window, for new instances (default 100, range 0..60000)");

void vc_defaults(u32 *interval_ms, u32 *misses, u16 *port)
{
	*interval_ms = READ_ONCE(vc_param_interval_ms);
	*misses = READ_ONCE(vc_param_misses);
	*port = READ_ONCE(vc_param_port);
}

u32 vc_default_fence_margin_ms(void)
{
	return READ_ONCE(vc_param_fence_margin_ms);
}

static unsigned int vc_net_id __read_mostly;

struct vc_inst *vc_inst_of(struct net *net)
{
	return net_generic(net, vc_net_id);
}

static int __net_init vc_net_init(struct net *net)
{
	vc_node_init(vc_inst_of(net), net);
	return 0;
}

static void __net_exit vc_net_exit(struct net *net)
{
	vc_node_destroy(vc_inst_of(net));
}

static struct pernet_operations vc_net_ops = {
	.init = vc_net_init,
	.exit = vc_net_exit,
	.id = &vc_net_id,
	.size = sizeof(struct vc_inst),
};

static int __init vc_init(void)
{
	int err;

	BUILD_BUG_ON(sizeof(struct vc_wire_hdr) != 88);
	BUILD_BUG_ON(sizeof(struct vc_wire_member) != 16);

	err = register_pernet_subsys(&vc_net_ops);
	if (err)
		return err;
	err = genl_register_family(&vc_genl_family);
	if (err) {
		unregister_pernet_subsys(&vc_net_ops);
		return err;
	}
	return 0;
}

static void __exit vc_exit(void)
{
	/*
	 * No instance is armed (each armed one holds a module reference).
	 * No new commands first, then every instance stops and is freed.
	 */
	genl_unregister_family(&vc_genl_family);
	unregister_pernet_subsys(&vc_net_ops);
	rcu_barrier();
}

module_init(vc_init);
module_exit(vc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vcluster: heartbeat membership for hypervisor clusters");
MODULE_AUTHOR("The vcluster authors");
MODULE_ALIAS_GENL_FAMILY(VC_GENL_NAME);
