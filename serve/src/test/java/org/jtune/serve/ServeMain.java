package org.jtune.serve;

import java.nio.file.Path;
import java.util.Map;
import org.jtune.serve.http.OpenAiServer;

/** A server in its own JVM for the shutdown test: args MODEL_DIR LOG_URL; prints "port N" when it listens. */
public final class ServeMain {
    public static void main(String[] args) throws Exception {
        ServeConfig c = new ServeConfig(Path.of(args[0]), "stories", Map.of(), "chatml", "127.0.0.1", 0, null, 4, 16, 1 << 20, args[1], 2048, 0);
        OpenAiServer server = ServeLauncher.start(c).closeOnShutdown();
        System.out.println("port " + server.port());
        System.out.flush();
        server.join();
    }
}
