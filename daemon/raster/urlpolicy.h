/*
 * urlpolicy: which remote raster locations the daemon may fetch.
 *
 * Rules, each with a stable name that refusals report: "scheme" (http and https
 * only), "credentials" (no user:password@ in URLs), "host" (when an allow-list is
 * configured, the host must be on it), and per resolved address "loopback",
 * "private", "link_local", "multicast", "metadata" (cloud metadata endpoints),
 * "unspecified" and "reserved", all refused unless private targets are allowed
 * (metadata endpoints stay refused even then). Addresses are checked after DNS,
 * for every connection, redirects included (fetch.c).
 *
 * Pure functions on caller memory; any thread.
 */
#ifndef RC_URLPOLICY_H
#define RC_URLPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/error.h"

struct rc_url {
    bool https;
    char host[256]; /* lower case; IPv6 literals without brackets */
    unsigned port;
};

enum rc_addr_class {
    RC_ADDR_PUBLIC,
    RC_ADDR_LOOPBACK,
    RC_ADDR_PRIVATE,
    RC_ADDR_LINK_LOCAL,
    RC_ADDR_MULTICAST,
    RC_ADDR_METADATA,
    RC_ADDR_UNSPECIFIED,
    RC_ADDR_RESERVED,
};

struct rc_url_policy {
    bool allow_private;      /* loopback, private, link-local targets */
    const char *allow_hosts; /* comma-separated host names; NULL or "": any host */
};

/* Parses an absolute http(s) URL. Refuses other schemes ("scheme") and embedded
 * credentials ("credentials") as RC_ERR_FORBIDDEN, anything unparsable as
 * RC_ERR_INVALID; errors name `field`. */
enum rc_err rc_url_parse(const char *url, const char *field, struct rc_url *out,
                         struct rc_error *err);

enum rc_addr_class rc_addr_classify(const struct sockaddr *addr);
const char *rc_addr_class_name(enum rc_addr_class cls);

/* The host rule: RC_OK, or RC_ERR_FORBIDDEN naming "host". */
enum rc_err rc_url_policy_check_host(const struct rc_url_policy *policy, const char *host,
                                     const char *field, struct rc_error *err);
/* The address rules for one resolved address. */
enum rc_err rc_url_policy_check_addr(const struct rc_url_policy *policy,
                                     const struct sockaddr *addr, const char *field,
                                     struct rc_error *err);

#endif
