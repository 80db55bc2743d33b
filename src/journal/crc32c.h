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

/*
 * The two implementations behind crc32c(), same contract, exposed so the
 * tests can check they agree. crc32c_hw() may only be called when
 * crc32c_hw_available() returns 1.
 */
int crc32c_hw_available(void);
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
