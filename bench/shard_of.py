#!/usr/bin/env python3
"""Which shard a key belongs to, as src/Flotilla.ShardKv/ShardMap.cs computes it: XxHash64 (seed 0) of the key's UTF-8
bytes modulo the shard count. Used by the benchmarks to count the keys of `flotilla bench kv` (k%015d) in one shard.

  shard_of.py SHARDS KEYS           # prints, for each shard, how many of k000000000000000..k{KEYS-1} it holds
"""
import struct
import sys

M = (1 << 64) - 1
P1, P2, P3, P4, P5 = 11400714785074694791, 14029467366897019727, 1609587929392839161, 9650029242287828579, 2870177450012600261


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def rnd(acc, lane):
    acc = (acc + lane * P2) & M
    return (rotl(acc, 31) * P1) & M


def merge(acc, val):
    acc ^= rnd(0, val)
    return (acc * P1 + P4) & M


def xxh64(data, seed=0):
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while i + 32 <= n:
            for j in range(4):
                v[j] = rnd(v[j], struct.unpack_from("<Q", data, i + 8 * j)[0])
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
        for x in v:
            h = merge(h, x)
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h ^= rnd(0, struct.unpack_from("<Q", data, i)[0])
        h = (rotl(h, 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h ^= (struct.unpack_from("<I", data, i)[0] * P1) & M
        h = (rotl(h, 23) * P2 + P3) & M
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M
        h = (rotl(h, 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    return h ^ (h >> 32)


def shard_of(key, shards):
    return xxh64(key.encode()) % shards


if __name__ == "__main__":
    assert xxh64(b"") == 0xEF46DB3751D8E999 and xxh64(b"abc") == 0x44BC2CF5AD770999
    shards, keys = int(sys.argv[1]), int(sys.argv[2])
    counts = [0] * shards
    for k in range(keys):
        counts[shard_of("k%015d" % k, shards)] += 1
    print(" ".join(str(c) for c in counts))
