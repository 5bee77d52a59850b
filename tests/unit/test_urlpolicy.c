/* The URL policy: parsing, address classes, host allow-list. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "raster/urlpolicy.h"

static enum rc_addr_class class_of(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, text, &a6->sin6_addr);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        inet_pton(AF_INET, text, &a4->sin_addr);
    }
    return rc_addr_classify((struct sockaddr *)&ss);
}

static void test_classes(void)
{
    CHECK(class_of("127.0.0.1") == RC_ADDR_LOOPBACK);
    CHECK(class_of("127.0.0.2") == RC_ADDR_LOOPBACK);
    CHECK(class_of("10.0.0.1") == RC_ADDR_PRIVATE);
    CHECK(class_of("172.16.5.4") == RC_ADDR_PRIVATE);
    CHECK(class_of("172.32.0.1") == RC_ADDR_PUBLIC);
    CHECK(class_of("192.168.1.1") == RC_ADDR_PRIVATE);
    CHECK(class_of("100.64.0.1") == RC_ADDR_PRIVATE);
    CHECK(class_of("169.254.169.254") == RC_ADDR_METADATA);
    CHECK(class_of("100.100.100.200") == RC_ADDR_METADATA);
    CHECK(class_of("169.254.1.1") == RC_ADDR_LINK_LOCAL);
    CHECK(class_of("224.0.0.1") == RC_ADDR_MULTICAST);
    CHECK(class_of("0.0.0.0") == RC_ADDR_UNSPECIFIED);
    CHECK(class_of("255.255.255.255") == RC_ADDR_RESERVED);
    CHECK(class_of("8.8.8.8") == RC_ADDR_PUBLIC);
    CHECK(class_of("::1") == RC_ADDR_LOOPBACK);
    CHECK(class_of("::") == RC_ADDR_UNSPECIFIED);
    CHECK(class_of("::ffff:127.0.0.1") == RC_ADDR_LOOPBACK);
    CHECK(class_of("::ffff:169.254.169.254") == RC_ADDR_METADATA);
    CHECK(class_of("::ffff:10.1.2.3") == RC_ADDR_PRIVATE);
    CHECK(class_of("fd00:ec2::254") == RC_ADDR_METADATA);
    CHECK(class_of("fd12:3456::1") == RC_ADDR_PRIVATE);
    CHECK(class_of("fe80::1") == RC_ADDR_LINK_LOCAL);
    CHECK(class_of("ff02::1") == RC_ADDR_MULTICAST);
    CHECK(class_of("64:ff9b::a00:1") == RC_ADDR_RESERVED);
    CHECK(class_of("2001:db8::1") == RC_ADDR_PUBLIC);
}

static void test_policy(void)
{
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
    struct rc_url_policy strict = {0}, loose = {.allow_private = true};
    struct rc_error err;
    CHECK(rc_url_policy_check_addr(&strict, (struct sockaddr *)&a4, "raster.url", &err) ==
          RC_ERR_FORBIDDEN);
    CHECK(strstr(err.message, "\"loopback\"") != NULL);
    CHECK(strcmp(err.field, "raster.url") == 0);
    CHECK(rc_url_policy_check_addr(&loose, (struct sockaddr *)&a4, "f", &err) == RC_OK);
    inet_pton(AF_INET, "169.254.169.254", &a4.sin_addr);
    CHECK(rc_url_policy_check_addr(&loose, (struct sockaddr *)&a4, "f", &err) ==
          RC_ERR_FORBIDDEN); /* metadata stays refused */
    CHECK(strstr(err.message, "\"metadata\"") != NULL);

    struct rc_url_policy hosts = {.allow_hosts = "tiles.example.org, data.example.net"};
    CHECK(rc_url_policy_check_host(&hosts, "data.example.net", "f", &err) == RC_OK);
    CHECK(rc_url_policy_check_host(&hosts, "example.net", "f", &err) == RC_ERR_FORBIDDEN);
    CHECK(strstr(err.message, "\"host\"") != NULL);
    CHECK(rc_url_policy_check_host(&strict, "anything", "f", &err) == RC_OK);
}

static void test_parse(void)
{
    struct rc_url u;
    struct rc_error err;
    CHECK(rc_url_parse("https://Data.Example.org/a/b.tif?x=1", "f", &u, &err) == RC_OK);
    CHECK(u.https && u.port == 443 && strcmp(u.host, "data.example.org") == 0);
    CHECK(rc_url_parse("http://[::1]:8080/x.tif", "f", &u, &err) == RC_OK);
    CHECK(!u.https && u.port == 8080 && strcmp(u.host, "::1") == 0);
    CHECK(rc_url_parse("http://127.0.0.2/x", "f", &u, &err) == RC_OK && u.port == 80);
    CHECK(rc_url_parse("file:///etc/passwd", "f", &u, &err) == RC_ERR_FORBIDDEN);
    CHECK(strstr(err.message, "\"scheme\"") != NULL);
    CHECK(rc_url_parse("gopher://x/", "f", &u, &err) == RC_ERR_FORBIDDEN);
    CHECK(rc_url_parse("http://user:pw@host/x", "f", &u, &err) == RC_ERR_FORBIDDEN);
    CHECK(strstr(err.message, "\"credentials\"") != NULL);
    CHECK(rc_url_parse("http:///x", "f", &u, &err) == RC_ERR_INVALID);
    CHECK(rc_url_parse("http://host:99999/x", "f", &u, &err) == RC_ERR_INVALID);
    CHECK(rc_url_parse("http://host:/x", "f", &u, &err) == RC_ERR_INVALID);
    CHECK(rc_url_parse("http://ho st/x", "f", &u, &err) == RC_ERR_INVALID);
    CHECK(rc_url_parse("http://[::1/x", "f", &u, &err) == RC_ERR_INVALID);
}

int main(void)
{
    test_classes();
    test_policy();
    test_parse();
    return CHECK_DONE();
}
