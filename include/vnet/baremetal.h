/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file baremetal.h
 * @brief The bare-metal environments, for appliance authors.
 *
 * An appliance is an image QEMU boots with `-kernel`: on x86_64 an ELF
 * with a PVH entry (q35, microvm); on aarch64 and riscv64 an image for
 * `-machine virt` (aarch64: the .img Linux arm64 Image or the .elf;
 * riscv64: the .elf, after OpenSBI). The environment sets up the CPU, the
 * serial console (COM1, PL011, 16550), the heap and the counter rate, then
 * calls the application's vnet_main() with the kernel command line
 * (`-append`). Everything polls; interrupts are on only while
 * vnet_idle_wait() halts.
 *
 * Exit codes: QEMU ends with status (v << 1) | 1, so a guest can never
 * produce 0; tests treat VNET_EXIT_SUCCESS (QEMU status 33) as the pass
 * code. x86_64: isa-debug-exit (`-device
 * isa-debug-exit,iobase=0xf4,iosize=0x04`); aarch64: semihosting
 * SYS_EXIT (`-semihosting`; without it, PSCI SYSTEM_OFF and status 0);
 * riscv64: virt's sifive_test device.
 */
#ifndef VNET_BAREMETAL_H
#define VNET_BAREMETAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Conventional pass code: QEMU exits with status 33. */
#define VNET_EXIT_SUCCESS 0x10
/** abort(), assert() and heap corruption: QEMU status 255. */
#define VNET_EXIT_ABORT 0x7f
/** Unexpected CPU exception (printed on the console): QEMU status 253. */
#define VNET_EXIT_CRASH 0x7e

/**
 * @brief The application's entry point; implemented by the appliance.
 * @param cmdline the kernel command line (`-append`), never NULL.
 * @return the value handed to vnet_exit().
 */
int vnet_main(const char *cmdline);

/**
 * @brief Leave QEMU with status (@p status << 1) | 1 (see above).
 *
 * Without a way out the CPU halts forever with interrupts off.
 */
void vnet_exit(int status) __attribute__((noreturn));

/**
 * @brief Write @p n bytes to the serial console (COM1), polled.
 * @return @p n, or -ENODEV when there is no UART.
 */
int vnet_console_write(const char *s, size_t n);

/** @brief The kernel command line as booted (empty string when none). */
const char *vnet_cmdline(void);

/**
 * @brief Look up `key=value` (or a bare `key`) in the command line.
 *
 * Words are separated by spaces; a value may be double-quoted to hold
 * spaces. A bare `key` yields an empty value. The last occurrence wins.
 * @param key the key to look for, without the `=`.
 * @param out receives the NUL-terminated value; may be NULL if @p outlen is 0.
 * @param outlen bytes at @p out, the terminating NUL included.
 * @return 0, -ENOENT when the key is absent, -ERANGE when the value did not
 *         fit (@p out then holds a truncated copy).
 */
int vnet_cmdline_get(const char *key, char *out, size_t outlen);

/** @brief Bytes of usable RAM the firmware reported (E820, device tree). */
uint64_t vnet_ram_size(void);

/** @brief Bytes currently free in the heap (malloc and DMA memory share it). */
size_t vnet_heap_free(void);

/**
 * @brief Where this machine's virtio devices can be, for the transports
 * (vnet/transports.h): its fixed map, or what its device tree says.
 * A zero field means none, or the transport's default.
 */
struct vnet_machine {
	const char *name;        /**< "x86_64 PVH", "aarch64 virt", "riscv64 virt" */
	uint64_t pci_ecam;       /**< vnet_pci_opts.ecam_base (0: x86 port IO) */
	uint64_t pci_bar_window; /**< vnet_pci_opts.bar_window (0: the default) */
	uint64_t mmio_base;      /**< struct vnet_mmio_range: first window */
	uint32_t mmio_stride;    /**< bytes between windows */
	uint32_t mmio_count;     /**< windows (0: none to probe) */
	/** vnet_pci_opts.msi_addr / msi_data: the MSI-X message that ends a
	 * vnet_idle_wait() (x86_64: this CPU's local APIC; aarch64 virt: an SPI
	 * of the GICv2m frame; 0: the machine takes no MSI, riscv64 virt). */
	uint64_t msi_addr;
	uint32_t msi_data;       /**< see @c msi_addr */
	/** vnet_pci_opts.io_window / io_window_size: PCI I/O space as a
	 * memory window (aarch64, riscv64 virt: from the device tree; 0 on
	 * x86_64, whose ports are reached by in/out). */
	uint64_t pci_io_window;
	uint32_t pci_io_size;    /**< see @c pci_io_window */
};

/** @brief The machine booted on; never NULL. */
const struct vnet_machine *vnet_machine(void);

#if defined(__x86_64__) || defined(__aarch64__) || defined(__riscv)
/**
 * @brief Halt the CPU until an interrupt: the NIC's (its MSI-X message:
 * open the device with vnet_machine()'s msi_addr/msi_data, x86_64 q35 and
 * aarch64 virt; or its wired line: vnet_irq_line()), armed with vnet_dev_rx_intr_enable(),
 * or, at the latest, @p max_us microseconds (x86_64: the local APIC timer,
 * HLT; aarch64: the generic timer's virtual timer, WFI, through the
 * GICv2; riscv64: the supervisor timer set through SBI, WFI, the line
 * through the PLIC). Interrupts are enabled only across the halt.
 *
 * For a loop with nothing to do: under a hypervisor the vCPU sleeps
 * instead of spinning and leaves the host CPU to the device emulation.
 * The first call sets up the interrupt controller (x86_64: the local
 * APIC, whose timer it calibrates in 1 ms).
 * @return 0 (an interrupt ended the halt), 1 (the timer did), or -1 when
 * the timer or the controller cannot be set up (nothing was done).
 */
int vnet_idle_wait(uint32_t max_us);
/** vnet_idle_wait() and vnet_irq_line() exist in this environment. */
#define VNET_BAREMETAL_HAS_IDLE 1

/**
 * @brief Let the NIC's wired interrupt line end vnet_idle_wait()'s halt,
 * for a device without MSI-X (virtio-mmio; PCI INTx where the machine
 * takes no MSI).
 *
 * @p line is the machine's number for it: x86_64 microvm, the I/O APIC
 * input (GSI) of the `virtio_mmio.device=SIZE@BASE:GSI` entry QEMU adds to
 * the command line (with `-machine microvm,acpi=off`); aarch64 virt, the
 * GIC's INTID of a shared peripheral interrupt; riscv64 virt, the PLIC's
 * source (both from the device tree: vnet_machine_mmio_irq(),
 * vnet_machine_pci_irq()). The line is taken
 * as level-triggered, active high; its handler calls @p ack(@p arg), which
 * must make the device lower it (vnet_mmio_intr_ack() or
 * vnet_pci_intr_ack() in vnet/transports.h), then counts the interrupt as the NIC's
 * (vnet_irq_stats()) and ends it. @p ack NULL masks the line again (do so
 * before closing the transport). One line at a time: a second call
 * replaces the first's handler.
 * @return 0, -EINVAL (no such line), -ENODEV (no interrupt controller).
 */
int vnet_irq_line(uint32_t line, void (*ack)(void *arg), void *arg);

/** Interrupts taken since boot, counted by their handlers (interrupts are
 * on only across vnet_idle_wait()'s halt). */
struct vnet_irq_stats {
	uint64_t nic;      /**< the NIC's: MSI-X messages (vnet_machine()'s msi_data vector) and its wired line */
	uint64_t timer;    /**< the timer: halts that ran their whole max_us */
	uint64_t spurious; /**< the controller's spurious interrupts (nothing pending, or not asked for) */
};
/** @brief Copy the interrupt counters. */
void vnet_irq_stats(struct vnet_irq_stats *out);
#endif

#if defined(__aarch64__) || defined(__riscv)
/**
 * @brief The interrupt line of the virtio-mmio window at @p base, from the
 * device tree, in vnet_irq_line()'s numbering.
 * @return 0, or -ENOENT (no such window, or no interrupt given for it).
 */
int vnet_machine_mmio_irq(uint64_t base, uint32_t *line);
/**
 * @brief The interrupt line of a PCI function's INTx pin (vnet_pci_intx()
 * in vnet/transports.h), from the host bridge's interrupt-map in the
 * device tree, in vnet_irq_line()'s numbering.
 * @param bdf bus << 8 | device << 3 | function.
 * @param pin 1..4 (INTA#..INTD#).
 * @return 0, or -ENOENT (the map has no such entry).
 */
int vnet_machine_pci_irq(uint32_t bdf, uint8_t pin, uint32_t *line);
/** vnet_machine_mmio_irq() and vnet_machine_pci_irq() exist in this environment. */
#define VNET_BAREMETAL_HAS_MMIO_IRQ 1
#endif

#ifdef __cplusplus
}
#endif

#endif
