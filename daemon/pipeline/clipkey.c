/* The clip cache's keys (pipeline/clipcache.h): the program's identity and the
 * digest of a job's canonical text with its rasters' identities. */
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/clipcache.h"

/* The program: its version and the SHA-256 of its own executable, so a rebuilt
 * daemon never serves what an earlier build made. */
static char program[128];
static pthread_once_t program_once = PTHREAD_ONCE_INIT;

static void read_program(void)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    bool ok = ctx && fd >= 0 && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    uint8_t chunk[65536];
    ssize_t n;
    while (ok && (n = read(fd, chunk, sizeof(chunk))) > 0) {
        ok = EVP_DigestUpdate(ctx, chunk, (size_t)n);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) && md_len >= 16;
    EVP_MD_CTX_free(ctx);
    if (fd >= 0) {
        close(fd);
    }
    int at = snprintf(program, sizeof(program), "rasterclip %s ", RC_VERSION);
    for (unsigned i = 0; ok && i < 16; i++) {
        at += snprintf(program + at, sizeof(program) - (size_t)at, "%02x", md[i]);
    }
}

const char *rc_clipcache_program(void)
{
    pthread_once(&program_once, read_program);
    return program;
}

void rc_clipcache_key(const struct rc_buf *canonical, const char *const *identities,
                      size_t identity_count, char key[65])
{
    const char *version = rc_clipcache_program();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
              EVP_DigestUpdate(ctx, version, strlen(version) + 1) &&
              EVP_DigestUpdate(ctx, canonical->data, canonical->len);
    for (size_t i = 0; ok && i < identity_count; i++) {
        ok = EVP_DigestUpdate(ctx, identities[i], strlen(identities[i]) + 1);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len);
    EVP_MD_CTX_free(ctx);
    for (unsigned i = 0; i < 32; i++) {
        snprintf(key + 2 * i, 3, "%02x", ok && i < md_len ? md[i] : 0);
    }
    key[64] = '\0';
}
