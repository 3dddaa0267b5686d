/* SPDX-License-Identifier: BSD-3-Clause */
/* Trap-and-emulate register windows: see trap.h. Linux x86_64 only. */
#define _GNU_SOURCE
#include "trap.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define MAX_REGIONS 16
#define EFLAGS_TF 0x100

static struct trap_region *regions[MAX_REGIONS];
static struct sigaction old_segv, old_trap;
static int installed;

static struct {
	struct trap_region *r;
	uint8_t *page;
	struct trap_access a;
} pending;

/* Operand width of the faulting instruction: the plain MOV/CMP/TEST forms
 * compilers emit for volatile loads and stores. 0 when not recognised. */
static unsigned decode_width(const uint8_t *ip)
{
	unsigned opsize16 = 0, rexw = 0, i;

	for (i = 0; i < 8; i++, ip++) {
		if (*ip == 0x66)
			opsize16 = 1;
		else if (*ip == 0x67 || *ip == 0x2e || *ip == 0x36 || *ip == 0x3e || *ip == 0x26 ||
		         *ip == 0x64 || *ip == 0x65)
			continue;
		else
			break;
	}
	if ((*ip & 0xf0) == 0x40) { /* REX */
		rexw = (*ip & 0x08) != 0;
		ip++;
	}
	switch (*ip) {
	case 0x88: case 0x8a: case 0xc6: case 0x80: case 0x38: case 0x3a: case 0x84: case 0xf6:
		return 1;
	case 0x89: case 0x8b: case 0xc7: case 0x81: case 0x83: case 0x39: case 0x3b: case 0x85:
	case 0xf7:
		return rexw ? 8 : opsize16 ? 2 : 4;
	case 0x0f:
		if (ip[1] == 0xb6 || ip[1] == 0xbe)
			return 1;
		if (ip[1] == 0xb7 || ip[1] == 0xbf)
			return 2;
		return 0;
	default:
		return 0;
	}
}

static uint8_t *page_of(const void *p)
{
	return (uint8_t *)((uintptr_t)p & ~(uintptr_t)(TRAP_PAGE - 1));
}

static struct trap_region *find_region(uintptr_t a)
{
	unsigned i;

	for (i = 0; i < MAX_REGIONS; i++) {
		struct trap_region *r = regions[i];

		if (r && a >= (uintptr_t)r->mem && a < (uintptr_t)r->mem + r->len &&
		    (r->armed & (1ull << ((a - (uintptr_t)r->mem) / TRAP_PAGE))))
			return r;
	}
	return NULL;
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uintptr_t a = (uintptr_t)si->si_addr;
	struct trap_region *r = find_region(a);

	(void)sig;
	if (!r || pending.r) {
		/* A real crash: let the previous handler (or the default) see it. */
		sigaction(SIGSEGV, &old_segv, NULL);
		return;
	}
	pending.r = r;
	pending.page = page_of((void *)a);
	pending.a.off = a - (uintptr_t)r->mem;
	pending.a.write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
	pending.a.width = decode_width((const uint8_t *)uc->uc_mcontext.gregs[REG_RIP]);
	mprotect(pending.page, TRAP_PAGE, PROT_READ | PROT_WRITE);
	r->fn(r->arg, r->mem, &pending.a, 0);
	uc->uc_mcontext.gregs[REG_EFL] |= EFLAGS_TF;
}

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct trap_region *r = pending.r;

	(void)sig;
	(void)si;
	if (!r) {
		sigaction(SIGTRAP, &old_trap, NULL);
		return;
	}
	uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)EFLAGS_TF;
	r->fn(r->arg, r->mem, &pending.a, 1);
	mprotect(pending.page, TRAP_PAGE, PROT_NONE);
	pending.r = NULL;
}

static void install(void)
{
	struct sigaction sa;

	if (installed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_segv;
	sigaction(SIGSEGV, &sa, &old_segv);
	sa.sa_sigaction = on_trap;
	sigaction(SIGTRAP, &sa, &old_trap);
	installed = 1;
}

int trap_init(struct trap_region *r, size_t len, trap_fn fn, void *arg)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	if (!len || len % TRAP_PAGE || len / TRAP_PAGE > 64)
		return -1;
	r->mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->mem == MAP_FAILED) {
		r->mem = NULL;
		return -1;
	}
	r->len = len;
	r->fn = fn;
	r->arg = arg;
	for (i = 0; i < MAX_REGIONS; i++) {
		if (!regions[i]) {
			regions[i] = r;
			install();
			return 0;
		}
	}
	munmap(r->mem, len);
	r->mem = NULL;
	return -1;
}

void trap_arm(struct trap_region *r, size_t off, size_t len)
{
	size_t p;

	for (p = off / TRAP_PAGE; p * TRAP_PAGE < off + len && p * TRAP_PAGE < r->len; p++) {
		r->armed |= 1ull << p;
		mprotect(r->mem + p * TRAP_PAGE, TRAP_PAGE, PROT_NONE);
	}
}

void trap_fini(struct trap_region *r)
{
	unsigned i;

	if (!r->mem)
		return;
	for (i = 0; i < MAX_REGIONS; i++)
		if (regions[i] == r)
			regions[i] = NULL;
	if (pending.r == r)
		pending.r = NULL;
	munmap(r->mem, r->len);
	memset(r, 0, sizeof(*r));
}

static volatile unsigned probe_after; /* written by the signal handler */

static void probe_fn(void *arg, uint8_t *mem, const struct trap_access *a, int after)
{
	(void)arg;
	(void)mem;
	if (after && a->off == 8 && a->width == 4 && !a->write)
		probe_after++;
}

int trap_supported(void)
{
	static int known = -1;
	struct trap_region r;

	if (known >= 0)
		return known;
	if (trap_init(&r, TRAP_PAGE, probe_fn, NULL))
		return known = 0;
	trap_arm(&r, 0, TRAP_PAGE);
	probe_after = 0;
	(void)*(volatile uint32_t *)(r.mem + 8);
	(void)*(volatile uint32_t *)(r.mem + 8);
	__asm__ __volatile__("" ::: "memory");
	known = probe_after == 2;
	pending.r = NULL;
	trap_fini(&r);
	return known;
}
