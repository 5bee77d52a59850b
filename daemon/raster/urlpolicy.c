#include "raster/urlpolicy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum rc_err rc_url_parse(const char *url, const char *field, struct rc_url *out,
                         struct rc_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *rest;
    if (strncasecmp(url, "http://", 7) == 0) {
        rest = url + 7;
        out->port = 80;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        rest = url + 8;
        out->https = true;
        out->port = 443;
    } else {
        return rc_error_set(err, RC_ERR_FORBIDDEN, field,
                            "refused by rule \"scheme\": only http and https");
    }
    size_t authority = strcspn(rest, "/?#");
    if (memchr(rest, '@', authority)) {
        return rc_error_set(err, RC_ERR_FORBIDDEN, field,
                            "refused by rule \"credentials\": no user:password@ in URLs");
    }
    const char *host = rest, *host_end;
    const char *port = NULL;
    if (authority > 0 && rest[0] == '[') {
        const char *close = memchr(rest, ']', authority);
        if (!close) {
            return rc_error_set(err, RC_ERR_INVALID, field, "malformed IPv6 host");
        }
        host = rest + 1;
        host_end = close;
        if (close + 1 < rest + authority) {
            if (close[1] != ':') {
                return rc_error_set(err, RC_ERR_INVALID, field, "malformed host");
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(rest, ':', authority);
        host_end = colon ? colon : rest + authority;
        port = colon ? colon + 1 : NULL;
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len >= sizeof(out->host)) {
        return rc_error_set(err, RC_ERR_INVALID, field, "missing or overlong host");
    }
    for (size_t i = 0; i < host_len; i++) {
        unsigned char c = (unsigned char)host[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '_')) {
            return rc_error_set(err, RC_ERR_INVALID, field, "bad character in host");
        }
        out->host[i] = (char)tolower(c);
    }
    if (port) {
        const char *port_end = rest + authority;
        unsigned long p = 0;
        if (port == port_end) {
            return rc_error_set(err, RC_ERR_INVALID, field, "empty port");
        }
        for (const char *c = port; c < port_end; c++) {
            if (!isdigit((unsigned char)*c) || (p = p * 10 + (unsigned long)(*c - '0')) > 65535) {
                return rc_error_set(err, RC_ERR_INVALID, field, "bad port");
            }
        }
        if (p == 0) {
            return rc_error_set(err, RC_ERR_INVALID, field, "bad port");
        }
        out->port = (unsigned)p;
    }
    for (const char *c = url; *c; c++) {
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
            return rc_error_set(err, RC_ERR_INVALID, field, "URLs may not contain spaces");
        }
    }
    return RC_OK;
}

static bool in4(uint32_t a, uint32_t net, int bits)
{
    uint32_t mask = bits == 0 ? 0 : 0xFFFFFFFFu << (32 - bits);
    return (a & mask) == (net & mask);
}

static enum rc_addr_class classify4(uint32_t a)
{
    if (a == 0xA9FEA9FEu /* 169.254.169.254 */ || a == 0x646464C8u /* 100.100.100.200 */) {
        return RC_ADDR_METADATA;
    }
    if (in4(a, 0x7F000000u, 8)) {
        return RC_ADDR_LOOPBACK;
    }
    if (in4(a, 0x0A000000u, 8) || in4(a, 0xAC100000u, 12) || in4(a, 0xC0A80000u, 16) ||
        in4(a, 0x64400000u, 10) /* 100.64/10 shared address space */) {
        return RC_ADDR_PRIVATE;
    }
    if (in4(a, 0xA9FE0000u, 16)) {
        return RC_ADDR_LINK_LOCAL;
    }
    if (in4(a, 0xE0000000u, 4)) {
        return RC_ADDR_MULTICAST;
    }
    if (in4(a, 0x00000000u, 8)) {
        return RC_ADDR_UNSPECIFIED;
    }
    if (in4(a, 0xF0000000u, 4) /* 240/4 and the broadcast address */ ||
        in4(a, 0xC0000000u, 24) /* 192.0.0/24 protocol assignments */ ||
        in4(a, 0xC6120000u, 15) /* 198.18/15 benchmarking */) {
        return RC_ADDR_RESERVED;
    }
    return RC_ADDR_PUBLIC;
}

static enum rc_addr_class classify6(const uint8_t b[16])
{
    static const uint8_t zero[16] = {0};
    static const uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    static const uint8_t ec2_metadata[16] = {0xFD, 0, 0x0E, 0xC2, 0, 0, 0,    0,
                                             0,    0, 0,    0,    0, 0, 0x02, 0x54};
    if (memcmp(b, mapped, 12) == 0 ||
        (memcmp(b, zero, 12) == 0 && memcmp(b, zero, 16) != 0 && memcmp(b, loopback, 16) != 0)) {
        /* IPv4-mapped (::ffff:a.b.c.d) and the old IPv4-compatible form. */
        uint32_t a = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
        return classify4(a);
    }
    if (memcmp(b, zero, 16) == 0) {
        return RC_ADDR_UNSPECIFIED;
    }
    if (memcmp(b, loopback, 16) == 0) {
        return RC_ADDR_LOOPBACK;
    }
    if (memcmp(b, ec2_metadata, 16) == 0) {
        return RC_ADDR_METADATA;
    }
    if ((b[0] & 0xFE) == 0xFC) {
        return RC_ADDR_PRIVATE; /* fc00::/7 unique local */
    }
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) {
        return RC_ADDR_LINK_LOCAL; /* fe80::/10 */
    }
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) {
        return RC_ADDR_PRIVATE; /* fec0::/10 deprecated site-local */
    }
    if (b[0] == 0xFF) {
        return RC_ADDR_MULTICAST;
    }
    if (b[0] == 0x00 || (b[0] == 0x01 && b[1] == 0x00 && memcmp(b + 2, zero, 6) == 0) ||
        (b[0] == 0x20 && b[1] == 0x02) /* 6to4 wraps IPv4 we cannot see */ ||
        (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) /* NAT64 */) {
        return RC_ADDR_RESERVED;
    }
    return RC_ADDR_PUBLIC;
}

enum rc_addr_class rc_addr_classify(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)addr;
        return classify4(ntohl(a4->sin_addr.s_addr));
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;
        return classify6(a6->sin6_addr.s6_addr);
    }
    return RC_ADDR_RESERVED;
}

const char *rc_addr_class_name(enum rc_addr_class cls)
{
    switch (cls) {
    case RC_ADDR_PUBLIC:
        return "public";
    case RC_ADDR_LOOPBACK:
        return "loopback";
    case RC_ADDR_PRIVATE:
        return "private";
    case RC_ADDR_LINK_LOCAL:
        return "link_local";
    case RC_ADDR_MULTICAST:
        return "multicast";
    case RC_ADDR_METADATA:
        return "metadata";
    case RC_ADDR_UNSPECIFIED:
        return "unspecified";
    case RC_ADDR_RESERVED:
        return "reserved";
    }
    return "reserved";
}

enum rc_err rc_url_policy_check_host(const struct rc_url_policy *policy, const char *host,
                                     const char *field, struct rc_error *err)
{
    const char *list = policy->allow_hosts;
    if (!list || !*list) {
        return RC_OK;
    }
    size_t len = strlen(host);
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ') {
            p++;
        }
        size_t n = strcspn(p, ", ");
        if (n == len && n > 0 && strncasecmp(p, host, n) == 0) {
            return RC_OK;
        }
        p += n;
    }
    return rc_error_set(err, RC_ERR_FORBIDDEN, field,
                        "refused by rule \"host\": the host is not on the allow-list");
}

enum rc_err rc_url_policy_check_addr(const struct rc_url_policy *policy,
                                     const struct sockaddr *addr, const char *field,
                                     struct rc_error *err)
{
    enum rc_addr_class cls = rc_addr_classify(addr);
    bool allowed = cls == RC_ADDR_PUBLIC ||
                   (policy->allow_private && (cls == RC_ADDR_LOOPBACK || cls == RC_ADDR_PRIVATE ||
                                              cls == RC_ADDR_LINK_LOCAL));
    if (allowed) {
        return RC_OK;
    }
    return rc_error_set(err, RC_ERR_FORBIDDEN, field,
                        "refused by rule \"%s\": the host resolves to a %s address",
                        rc_addr_class_name(cls), rc_addr_class_name(cls));
}
