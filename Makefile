# SPDX-License-Identifier: GPL-2.0
#
# vcluster top-level build.
#
#   make            module (against KDIR) and user-space programs
#   make module     vcluster.ko only
#   make user       user space only: vclusterctl, vclusterd, vcluster-fencer
#   make install    module (modules_install + depmod) and programs
#   make check      every gate and test suite (installs what it needs)
#   make bench      detection latency and CPU in QEMU guests, then DC
#                   failover (kernel and user transport) and agent idle cost
#   make soak       false fences / false DOWNs while user space is starved
#                   (10 minutes per setting; SOAK_SECS=N to change)
#   make demo       three hosts run two VMs; one host dies; its VM runs elsewhere
#   make demo-detect  three guests form a cluster, one is killed and detected
#
# KDIR defaults to the running kernel's build tree; when that does not exist
# (as on a build host whose kernel has no module support) only user space is
# built by "make".

KDIR	?= /lib/modules/$(shell uname -r)/build
PREFIX	?= /usr/local
DESTDIR	?=
V	?= 0

export KDIR PREFIX DESTDIR

.PHONY: all module user install install-module install-user check bench soak demo demo-detect clean

all: user
ifneq ($(wildcard $(KDIR)/Makefile),)
all: module
endif

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) V=$(V) modules

user:
	$(MAKE) -C user

install: install-user
ifneq ($(wildcard $(KDIR)/Makefile),)
install: install-module
endif

# The release the module is built for, so depmod indexes that kernel's tree
# (not necessarily the running one).
KRELEASE = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)

install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) modules_install
	depmod -a $(if $(DESTDIR),-b $(DESTDIR)) $(KRELEASE)

install-user: user
	$(MAKE) -C user install

check:
	tools/deps.sh
	tests/run

bench:
	tools/deps.sh
	tools/bench

soak:
	tools/deps.sh
	tools/soak --secs $(or $(SOAK_SECS),600)

demo:
	tools/deps.sh
	tools/fetch-kernels -q
	tools/demo

demo-detect:
	tools/deps.sh
	tools/demo-detect

clean:
	-$(MAKE) -C user clean
	rm -rf .tmp_versions *.o *.ko *.mod *.mod.c *.mod.o .*.cmd kernel/*.o \
		kernel/.*.cmd modules.order Module.symvers
