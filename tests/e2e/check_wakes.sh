#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The sleep-when-idle check of the echo tests, on the guest's serial log:
# the appliance's counters (echo.c, print_busy(): "N halts (T ended by the
# timer, W by the NIC's KIND); interrupts taken: NIC KIND I, ...", KIND
# MSI-X or line) must show at least MIN halts that the NIC's interrupt
# ended -- its handler counted one during the halt -- and at least MIN
# of its interrupts taken. Each report covers the time since the previous
# one: they are summed.
#   check_wakes.sh SERIAL-LOG MIN
set -euo pipefail
serial=$1 min=$2
re="([0-9]+) halts \(([0-9]+) ended by the timer, ([0-9]+) by the NIC's ([A-Za-z-]+)\); interrupts taken: NIC [A-Za-z-]+ ([0-9]+),"
lines=$(grep -E "$re" "$serial" || true)
[ -n "$lines" ] || { echo "check_wakes: no halt and interrupt counters on the console"; exit 1; }
read -r halts timer nic irqs kind < <(sed -E "s/.* $re.*/\1 \2 \3 \5 \4/" <<<"$lines" |
	awk '{h += $1; t += $2; n += $3; i += $4; k = $5} END {print h, t, n, i, k}')
echo "check_wakes: $halts halts, $nic ended by the NIC's $kind, $timer by the timer; $irqs $kind interrupts taken"
if [ "$nic" -lt "$min" ] || [ "$irqs" -lt "$min" ]; then
	echo "check_wakes: FAIL: fewer than $min halts ended by the NIC's $kind interrupt, or fewer than $min taken"
	exit 1
fi
