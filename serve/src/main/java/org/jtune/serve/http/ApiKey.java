package org.jtune.serve.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The key clients must send as {@code Authorization: Bearer KEY}. The comparison takes the same time
 * whatever the key sent: both sides are hashed (SHA-256) to fixed-length digests, which
 * {@link MessageDigest#isEqual} compares in constant time, so neither the content nor the length of
 * the real key leaks through timing.
 */
final class ApiKey {
    private final byte[] digest;

    ApiKey(String key) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("an API key must not be empty");
        this.digest = sha256(key);
    }

    /** Whether an Authorization header value carries this key. */
    boolean matches(String authorization) {
        String sent = authorization;
        if (sent == null) sent = "";
        if (sent.regionMatches(true, 0, "Bearer ", 0, 7)) sent = sent.substring(7).strip();
        return MessageDigest.isEqual(digest, sha256(sent));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
