/*
 * crc32c.h: CRC-32C (Castagnoli), the checksum framing journal records.
 * Uses the SSE4.2 instruction when the CPU has it, a table otherwise.
 * Thread-safe.
 */
#ifndef SLUICE_CRC32C_H
#define SLUICE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extends crc (0 to start) over len bytes of buf and returns the new value.
 * crc32c(0, "123456789", 9) == 0xE3069283.
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
