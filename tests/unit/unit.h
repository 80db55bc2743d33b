/*
 * unit.h: the CUnit unit-test runner's registry. Each tests/unit/test_*.c
 * file adds one suite for one module through its register function.
 */
#ifndef SLUICE_UNIT_H
#define SLUICE_UNIT_H

#include <stddef.h>

#include <CUnit/CUnit.h>

/* Adds suite name with the NULL-terminated tests; aborts on CUnit error. */
struct unit_test {
	const char	*name;
	CU_TestFunc	 fn;
};
void unit_add_suite(const char *name, const struct unit_test *tests);

/* Makes a fresh empty directory under $TMPDIR and returns its path (static
 * buffer, valid until the next call). Aborts on failure. */
const char *unit_tmpdir(void);

/* The whole of file path, in a new buffer (caller frees) with one byte
 * of room after its *len bytes. Fails the test if it cannot be read. */
unsigned char *unit_read_file(const char *path, size_t *len);

/* Makes path hold exactly len bytes of buf. Fails the test on error. */
void unit_write_file(const char *path, const void *buf, size_t len);

/* Removes dir and everything below it. */
void unit_rmtree(const char *dir);

void test_crc32c_register(void);
void test_isotime_register(void);
void test_hex_register(void);
void test_log_register(void);
void test_uuid7_register(void);
void test_netaddr_register(void);
void test_inifile_register(void);
void test_config_register(void);
void test_routekey_register(void);
void test_event_register(void);
void test_record_register(void);
void test_journal_register(void);
void test_journal_corrupt_register(void);
void test_fwd_window_register(void);
void test_amqp_fwd_register(void);
void test_gzip_register(void);
void test_metrics_register(void);
void test_pusher_register(void);
void test_auth_api_register(void);
void test_sendq_register(void);
void test_ratelimit_register(void);
void test_hub_register(void);
void test_presence_register(void);
void test_cache_register(void);
void test_counts_register(void);
void test_ingest_register(void);
void test_waitcount_register(void);
void test_amqp_url_register(void);
void test_loader_config_register(void);
void test_loader_copy_register(void);
void test_loader_json_register(void);
void test_loader_row_register(void);

#endif
