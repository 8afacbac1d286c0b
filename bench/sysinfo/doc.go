// Package sysinfo reads what the benchmark reports about processes and the
// machine from /proc (CPU time, resident memory, children, CPU model,
// kernel), raises the open-file limit, and plans CPU pinning. Linux only;
// elsewhere the readers return errors and the benchmark leaves the figures
// out. It is benchmark infrastructure: the product never imports it.
package sysinfo
