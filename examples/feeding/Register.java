// Registers the ID of one push with imstats_exporter's tracking API
// (Java 11+, no library: java Register.java).
//   PUSH_ANSWER   the body the push API answered: JPush POST /v3/push
//                 {"sendno":"0","msg_id":"1613113584"} (set APP_KEY), or Tencent
//                 v4/all_member_push/im_push {"ActionStatus":"OK",…,"TaskId":"…"} (set SDKAPPID)
//   EXPORTER_URL  default http://localhost:9787; WRITE_TOKEN the write token, if any
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class Register {
    public static void main(String[] args) throws Exception {
        String exporter = System.getenv().getOrDefault("EXPORTER_URL", "http://localhost:9787");
        System.out.println(register(exporter, System.getenv("WRITE_TOKEN"), System.getenv("PUSH_ANSWER")));
    }

    // Posts the ID of a push answer, retrying 429 and 503: 200 means it is saved.
    static String register(String exporter, String token, String pushAnswer) throws Exception {
        String appKey = System.getenv("APP_KEY");
        boolean jpush = appKey != null && !appKey.isEmpty();
        String path = jpush
            ? "/api/v1/jpush/" + URLEncoder.encode(appKey, StandardCharsets.UTF_8) + "/messages"
            : "/api/v1/tencent_im/" + URLEncoder.encode(System.getenv("SDKAPPID"), StandardCharsets.UTF_8) + "/tasks";
        // JPush answers msg_id as a string of digits; Tencent TaskId is letters, digits, _ and -.
        Matcher m = Pattern.compile(jpush ? "\"msg_id\"\\s*:\\s*\"?(\\d+)" : "\"TaskId\"\\s*:\\s*\"([A-Za-z0-9_-]+)\"").matcher(pushAnswer);
        if (!m.find()) {
            throw new IllegalArgumentException("no ID in the push answer " + pushAnswer);
        }
        String body = String.format("{\"%s\":[\"%s\"],\"sent_at\":\"%s\"}",
            jpush ? "msg_ids" : "task_ids", m.group(1), Instant.now().truncatedTo(ChronoUnit.SECONDS));
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(exporter + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null && !token.isEmpty()) {
            req.header("X-Write-Token", token);
        }
        HttpClient client = HttpClient.newHttpClient();
        for (int attempt = 1; ; attempt++) {
            HttpResponse<String> resp = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() == 200) {
                return resp.body();
            }
            if ((resp.statusCode() != 429 && resp.statusCode() != 503) || attempt == 5) {
                throw new RuntimeException(path + ": " + resp.statusCode() + " " + resp.body());
            }
            long wait = resp.headers().firstValueAsLong("Retry-After").orElse(1);
            Thread.sleep(Math.max(wait, 1) * 1000);
        }
    }
}
