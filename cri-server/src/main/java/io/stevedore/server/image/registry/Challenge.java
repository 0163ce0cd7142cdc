package io.stevedore.server.image.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One {@code WWW-Authenticate} challenge (RFC 7235): {@code Bearer realm="…",service="…",scope="…"}
 * or {@code Basic realm="…"}.
 *
 * @param scheme lowercased, e.g. {@code bearer}
 * @param params parameter names lowercased, values unquoted
 */
record Challenge(String scheme, Map<String, String> params) {
    Challenge {
        params = Map.copyOf(params);
    }

    String param(String name) {
        return params.getOrDefault(name, "");
    }

    /** Every challenge in the header values, in order; malformed parts are skipped. */
    static List<Challenge> parse(List<String> headerValues) {
        List<Challenge> out = new ArrayList<>();
        for (String h : headerValues) {
            parseOne(h, out);
        }
        return out;
    }

    private static void parseOne(String h, List<Challenge> out) {
        int i = 0;
        int n = h.length();
        String scheme = null;
        Map<String, String> params = new LinkedHashMap<>();
        while (i < n) {
            while (i < n && (h.charAt(i) == ' ' || h.charAt(i) == ',' || h.charAt(i) == '\t')) {
                i++;
            }
            int start = i;
            while (i < n && isTokenChar(h.charAt(i))) {
                i++;
            }
            if (start == i) {
                i++; // not a token: skip a junk character
                continue;
            }
            String token = h.substring(start, i);
            int j = i;
            while (j < n && h.charAt(j) == ' ') {
                j++;
            }
            if (j < n && h.charAt(j) == '=' && scheme != null) {
                i = j + 1;
                while (i < n && h.charAt(i) == ' ') {
                    i++;
                }
                StringBuilder v = new StringBuilder();
                if (i < n && h.charAt(i) == '"') {
                    i++;
                    while (i < n && h.charAt(i) != '"') {
                        if (h.charAt(i) == '\\' && i + 1 < n) {
                            i++;
                        }
                        v.append(h.charAt(i++));
                    }
                    i++; // closing quote
                } else {
                    while (i < n && h.charAt(i) != ',' && h.charAt(i) != ' ') {
                        v.append(h.charAt(i++));
                    }
                }
                params.put(token.toLowerCase(Locale.ROOT), v.toString());
            } else {
                if (scheme != null) {
                    out.add(new Challenge(scheme, params));
                }
                scheme = token.toLowerCase(Locale.ROOT);
                params = new LinkedHashMap<>();
            }
        }
        if (scheme != null) {
            out.add(new Challenge(scheme, params));
        }
    }

    private static boolean isTokenChar(char c) {
        return Character.isLetterOrDigit(c) || "!#$%&'*+-.^_`|~/".indexOf(c) >= 0;
    }
}
