/* Minimal RFC 6455 websocket client for the shim's sender thread: one TCP connection to 127.0.0.1:port, HTTP upgrade
 * with the session secret, masked binary frames out, binary frames (plus ping/close) in. Raw syscalls only: this code
 * runs on the sender thread and in the constructor, never through the shim's own hooks. */
#include "ipcscope.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- SHA-1 (FIPS 180-4), only to check Sec-WebSocket-Accept */
static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
static void sha1(const uint8_t *msg, size_t len, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  uint8_t block[64];
  size_t total = ((len + 8) / 64 + 1) * 64;
  for (size_t off = 0; off < total; off += 64) {
    for (size_t i = 0; i < 64; i++) {
      size_t k = off + i;
      block[i] = k < len ? msg[k] : k == len ? 0x80 : 0;
    }
    if (off + 64 == total)
      for (int i = 0; i < 8; i++) block[63 - i] = (uint8_t)(((uint64_t)len * 8) >> (8 * i));
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f, k;
      if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
      else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
      else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
      else { f = b ^ c ^ d; k = 0xCA62C1D6; }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d; d = c; c = rol(b, 30); b = a; a = t;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
  }
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}
static size_t base64(const uint8_t *in, size_t n, char *out) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    out[o++] = t[(v >> 18) & 63];
    out[o++] = t[(v >> 12) & 63];
    out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? t[v & 63] : '=';
  }
  out[o] = 0;
  return o;
}

static uint64_t mask_state;
static uint32_t next_mask(void) {
  if (!mask_state) syscall(SYS_getrandom, &mask_state, sizeof mask_state, 0), mask_state |= 1;
  mask_state ^= mask_state << 13; mask_state ^= mask_state >> 7; mask_state ^= mask_state << 17;
  return (uint32_t)mask_state;
}

_Atomic uint64_t ips_ws_sent_bytes; /* bytes the socket took: producers waiting for ring room watch it move */

static int send_all(int fd, const void *b, size_t n) {
  const char *p = b;
  while (n) {
    ssize_t w = syscall(SYS_sendto, fd, p, n, MSG_NOSIGNAL, NULL, 0);
    if (w > 0) atomic_fetch_add_explicit(&ips_ws_sent_bytes, (uint64_t)w, memory_order_relaxed);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      struct pollfd pf = {fd, POLLOUT, 0};
      struct timespec ts = {1, 0};
      syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8);
      continue;
    }
    if (w <= 0) return -1;
    p += w; n -= (size_t)w;
  }
  return 0;
}

/* Receive side: bytes not yet parsed, and one message being assembled from fragments. */
static uint8_t rx[1 << 16];
static size_t rx_len;
static uint8_t rx_msg[1 << 16];
static size_t rx_msg_len;

int ips_ws_connect(int port, const char *secret, char *err, size_t errlen) {
  rx_len = rx_msg_len = 0;
  int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { snprintf(err, errlen, "socket: %s", strerror(errno)); return -1; }
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (syscall(SYS_connect, fd, &a, sizeof a) < 0) {
    snprintf(err, errlen, "cannot connect to the collector on 127.0.0.1:%d: %s", port, strerror(errno));
    syscall(SYS_close, fd);
    return -1;
  }
  int one = 1;
  syscall(SYS_setsockopt, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  uint8_t keyraw[16];
  syscall(SYS_getrandom, keyraw, sizeof keyraw, 0);
  char key[32];
  base64(keyraw, 16, key);
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET /ipcscope HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ipcscope.v1\r\n"
                   "X-IPCScope-Secret: %s\r\n\r\n",
                   port, key, secret);
  if (send_all(fd, req, (size_t)n) < 0) { snprintf(err, errlen, "sending the upgrade request failed"); goto fail; }
  /* Read the response head (bounded: IPS_CONNECT_WAIT_S; a collector busy with hundreds of starting processes is slow). */
  char resp[4096];
  size_t rl = 0;
  char *end = NULL;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (!end) {
    struct pollfd pf = {fd, POLLIN, 0};
    struct timespec ts = {0, 100000000};
    syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8);
    ssize_t r = syscall(SYS_recvfrom, fd, resp + rl, sizeof resp - 1 - rl, MSG_DONTWAIT, NULL, NULL);
    if (r == 0) { snprintf(err, errlen, "the collector closed the connection during the upgrade"); goto fail; }
    if (r > 0) {
      rl += (size_t)r;
      resp[rl] = 0;
      end = strstr(resp, "\r\n\r\n");
      if (!end && rl >= sizeof resp - 1) { snprintf(err, errlen, "upgrade response too long"); goto fail; }
    }
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!end && (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) > IPS_CONNECT_WAIT_S * 1000000000L) {
      snprintf(err, errlen, "no upgrade response from the collector within %d s", IPS_CONNECT_WAIT_S);
      goto fail;
    }
  }
  int status = 0;
  if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) { snprintf(err, errlen, "malformed upgrade response"); goto fail; }
  if (status != 101) {
    if (status == 401) snprintf(err, errlen, "the collector refused the secret (HTTP 401)");
    else if (status == 403) snprintf(err, errlen, "the collector refused the connection (HTTP 403)");
    else snprintf(err, errlen, "the collector answered HTTP %d to the upgrade", status);
    goto fail;
  }
  /* Sec-WebSocket-Accept = base64(SHA-1(key + GUID)). */
  char cat[128], want[40];
  uint8_t dig[20];
  int cl = snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
  sha1((const uint8_t *)cat, (size_t)cl, dig);
  base64(dig, 20, want);
  int accept_ok = 0;
  for (char *line = strstr(resp, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
    const char *h = line + 2;
    if (!strncasecmp(h, "Sec-WebSocket-Accept:", 21)) {
      h += 21;
      while (*h == ' ') h++;
      accept_ok = !strncmp(h, want, strlen(want));
    }
  }
  if (!accept_ok) { snprintf(err, errlen, "bad Sec-WebSocket-Accept from the collector"); goto fail; }
  size_t head = (size_t)(end + 4 - resp);
  rx_len = rl - head;
  memcpy(rx, resp + head, rx_len);
  return fd;
fail:
  syscall(SYS_close, fd);
  return -1;
}

static int send_frame(int fd, uint8_t opcode, uint8_t *payload, size_t len, uint8_t *hdr_room) {
  /* hdr_room: up to 14 bytes right before payload. */
  uint8_t h[14];
  size_t hl = 0;
  h[hl++] = (uint8_t)(0x80 | opcode);
  if (len < 126) h[hl++] = (uint8_t)(0x80 | len);
  else if (len < 65536) { h[hl++] = 0x80 | 126; h[hl++] = (uint8_t)(len >> 8); h[hl++] = (uint8_t)len; }
  else { h[hl++] = 0x80 | 127; for (int i = 7; i >= 0; i--) h[hl++] = (uint8_t)((uint64_t)len >> (8 * i)); }
  uint32_t m = next_mask();
  uint8_t mk[4];
  memcpy(mk, &m, 4);
  memcpy(h + hl, mk, 4);
  hl += 4;
  /* Mask in place, 8 bytes at a time. */
  uint64_t m8;
  uint8_t m8b[8] = {mk[0], mk[1], mk[2], mk[3], mk[0], mk[1], mk[2], mk[3]};
  memcpy(&m8, m8b, 8);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t v;
    memcpy(&v, payload + i, 8);
    v ^= m8;
    memcpy(payload + i, &v, 8);
  }
  for (; i < len; i++) payload[i] ^= mk[i & 3];
  if (hdr_room) {
    memcpy(payload - hl, h, hl);
    return send_all(fd, payload - hl, hl + len);
  }
  if (send_all(fd, h, hl) < 0) return -1;
  return send_all(fd, payload, len);
}

int ips_ws_send(int fd, uint8_t *buf, size_t len) { return send_frame(fd, 2, buf + IPS_WS_HEADROOM, len, buf); }

int ips_ws_send_close(int fd) {
  uint8_t p[2] = {0x03, 0xe8}; /* 1000 normal closure */
  return send_frame(fd, 8, p, 2, NULL);
}

int ips_ws_poll_read(int fd, void (*on_msg)(const uint8_t *msg, size_t len)) {
  for (;;) {
    ssize_t r = syscall(SYS_recvfrom, fd, rx + rx_len, sizeof rx - rx_len, MSG_DONTWAIT, NULL, NULL);
    if (r == 0) return -1;
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return -1;
    }
    rx_len += (size_t)r;
    if (rx_len == sizeof rx) break;
  }
  size_t off = 0;
  for (;;) {
    if (rx_len - off < 2) break;
    uint8_t b0 = rx[off], b1 = rx[off + 1];
    size_t hl = 2, len = b1 & 0x7f;
    if (len == 126) {
      if (rx_len - off < 4) break;
      len = (size_t)rx[off + 2] << 8 | rx[off + 3];
      hl = 4;
    } else if (len == 127) {
      if (rx_len - off < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = len << 8 | rx[off + 2 + i];
      hl = 10;
    }
    uint8_t mk[4] = {0};
    if (b1 & 0x80) {
      if (rx_len - off < hl + 4) break;
      memcpy(mk, rx + off + hl, 4);
      hl += 4;
    }
    if (len > sizeof rx - hl) return -1; /* the collector never sends us anything this big */
    if (rx_len - off < hl + len) break;
    uint8_t *p = rx + off + hl;
    if (b1 & 0x80)
      for (size_t i = 0; i < len; i++) p[i] ^= mk[i & 3];
    uint8_t op = b0 & 0x0f;
    if (op == 8) return -1;
    if (op == 9) send_frame(fd, 10, p, len, NULL);
    else if (op == 0 || op == 1 || op == 2) {
      if (rx_msg_len + len > sizeof rx_msg) return -1;
      memcpy(rx_msg + rx_msg_len, p, len);
      rx_msg_len += len;
      if (b0 & 0x80) {
        on_msg(rx_msg, rx_msg_len);
        rx_msg_len = 0;
      }
    }
    off += hl + len;
  }
  memmove(rx, rx + off, rx_len - off);
  rx_len -= off;
  return 0;
}
