/* Fuzz target: remote raster URLs and the URL policy. Whatever the input, a parsed
 * URL is http(s) with a lower-case host of no more than 255 bytes and a port in
 * 1..65535, and the host rule answers; the input's last 16 bytes double as an IPv6
 * address for the address classifier. */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raster/urlpolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    if (!url) {
        return 0;
    }
    memcpy(url, data, size);
    url[size] = '\0';
    struct rc_url u;
    struct rc_error err;
    if (rc_url_parse(url, "raster.url", &u, &err) == RC_OK) {
        size_t len = strnlen(u.host, sizeof(u.host));
        if (len == 0 || len >= sizeof(u.host) || u.port == 0 || u.port > 65535) {
            __builtin_trap();
        }
        for (size_t i = 0; i < len; i++) {
            if (u.host[i] >= 'A' && u.host[i] <= 'Z') {
                __builtin_trap();
            }
        }
        struct rc_url_policy policy = {.allow_private = false,
                                       .allow_hosts = "a.example,b.example"};
        (void)rc_url_policy_check_host(&policy, u.host, "raster.url", &err);
    }
    if (size >= 16) {
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
        memcpy(&a6.sin6_addr, data + size - 16, 16);
        enum rc_addr_class cls = rc_addr_classify((const struct sockaddr *)&a6);
        if (!rc_addr_class_name(cls)) {
            __builtin_trap();
        }
        struct sockaddr_in a4 = {.sin_family = AF_INET};
        memcpy(&a4.sin_addr, data + size - 4, 4);
        (void)rc_addr_classify((const struct sockaddr *)&a4);
    }
    free(url);
    return 0;
}
