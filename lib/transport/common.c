/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the register-window transports (pci.c, mmio.c); see
 * common.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <vnet/vnet.h>

#include "base/platform.h"
#include "transport/common.h"
#include "transport/transport.h"
#include "base/virtio_spec.h"

void vnet_window_read(const volatile uint8_t *base, uint32_t off, void *buf, uint32_t len)
{
	uint8_t *out = buf;
	uint32_t i;

	if (len == 2 && !(off & 1)) {
		uint16_t v = vnet_read16(base + off);

		memcpy(out, &v, 2);
		return;
	}
	if ((len == 4 || len == 8) && !(off & 3)) {
		for (i = 0; i < len; i += 4) {
			uint32_t v = vnet_read32(base + off + i);

			memcpy(out + i, &v, 4);
		}
		return;
	}
	for (i = 0; i < len; i++)
		out[i] = vnet_read8(base + off + i);
}

/* Poll @is_zero(@arg) until it holds, backing off from 1 us up to 10 ms
 * per poll, for at most VNET_RESET_TIMEOUT_US; the time waited in *@waited.
 * 0 or -ETIMEDOUT. */
static int backoff_until_zero(bool (*is_zero)(const void *arg), const void *arg, uint32_t *waited)
{
	uint32_t step = 1;

	for (*waited = 0;; *waited += step, step = step >= 5000 ? 10000 : step * 2) {
		if (is_zero(arg))
			return 0;
		if (*waited >= VNET_RESET_TIMEOUT_US)
			return -ETIMEDOUT;
		vnet_delay_us(step);
	}
}

static bool status_is_zero(const void *arg)
{
	struct vnet_transport *t = (struct vnet_transport *)arg;

	return t->ops->get_status(t) == 0;
}

int vnet_wait_reset(struct vnet_transport *t)
{
	uint32_t waited;

	if (backoff_until_zero(status_is_zero, t, &waited) == 0)
		return 0;
	vnet_log(VNET_LOG_ERR, "%s: device reset did not complete (status still 0x%02x after %u ms)",
	         t->ops->name, t->ops->get_status(t), waited / 1000);
	return -ETIMEDOUT;
}

struct reg_ref {
	const volatile void *reg;
	unsigned width;
};

static bool reg_is_zero(const void *arg)
{
	const struct reg_ref *r = arg;

	return (r->width == 2 ? vnet_read16(r->reg) : vnet_read32(r->reg)) == 0;
}

int vnet_wait_reg_zero(const volatile void *reg, unsigned width)
{
	struct reg_ref r = {reg, width};
	uint32_t waited;

	return backoff_until_zero(reg_is_zero, &r, &waited);
}

int vnet_legacy_ring_pfn(const struct vnet_vq_addrs *a, uint16_t size, uint32_t *pfn)
{
	uint64_t frame = a->desc >> VRING_LEGACY_PFN_SHIFT;

	if (!size || (a->desc & (VRING_LEGACY_ALIGN - 1)) || !frame || frame > UINT32_MAX ||
	    a->avail != a->desc + vring_legacy_avail_off(size) || a->used != a->desc + vring_legacy_used_off(size))
		return -EINVAL;
	*pfn = (uint32_t)frame;
	return 0;
}
