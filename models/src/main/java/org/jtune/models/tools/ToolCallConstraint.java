package org.jtune.models.tools;

import java.util.List;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.structured.JsonConstraint;

/**
 * Keeps the calls of a {@link TaggedToolSyntax} well-formed. Before the opening token the model writes freely (when
 * tool_choice forces a call, only the opening token is allowed); after it, only JSON of the calls ({@code payload});
 * after a closing token, only the end of the answer or (parallel calls) another opening token. The model decides
 * whether and when to call; the constraint decides nothing else. This is what llama.cpp calls a lazy grammar.
 */
final class ToolCallConstraint implements LogitsProcessor {
    private final int openId;
    private final int closeId;          // −1: the payload runs to the end
    private final JsonConstraint payload;
    private final int[] stopIds;
    private final boolean forced;
    private final boolean repeat;

    /**
     * @param payload  the JSON after the opening token; its end ids are {@code closeId}, or the stop ids without one
     * @param forced   the opening token comes first (tool_choice required or a function)
     * @param repeat   after a closing token another call may open
     */
    ToolCallConstraint(int openId, int closeId, JsonConstraint payload, List<Integer> stopIds, boolean forced, boolean repeat) {
        this.openId = openId;
        this.closeId = closeId;
        this.payload = payload;
        this.stopIds = stopIds.stream().mapToInt(Integer::intValue).toArray();
        this.forced = forced;
        this.repeat = repeat;
    }

    @Override
    public State start() {
        return new CallState();
    }

    private enum Phase { TEXT, CALL, CLOSED, ENDED }

    private final class CallState implements State {
        private Phase phase = Phase.TEXT;
        private State call;

        @Override
        public void process(float[] logits) {
            switch (phase) {
                case TEXT -> {
                    if (forced) keepOnly(logits, openId, null);
                }
                case CALL -> call.process(logits);
                case CLOSED -> keepOnly(logits, repeat ? openId : -1, stopIds);
                case ENDED -> keepOnly(logits, -1, stopIds);
            }
        }

        @Override
        public void accept(int token) {
            switch (phase) {
                case TEXT, CLOSED -> {
                    if (token == openId) {
                        phase = Phase.CALL;
                        call = payload.start();
                    } else if (phase == Phase.CLOSED) {
                        phase = Phase.ENDED;
                    }
                }
                case CALL -> {
                    call.accept(token);
                    if (closeId >= 0 && token == closeId) phase = Phase.CLOSED;
                    else if (closeId < 0 && isStop(token)) phase = Phase.ENDED;
                }
                case ENDED -> {}
            }
        }

        private boolean isStop(int token) {
            for (int s : stopIds) if (s == token) return true;
            return false;
        }

        private static void keepOnly(float[] logits, int id, int[] ids) {
            for (int i = 0; i < logits.length; i++) {
                boolean kept = i == id;
                if (ids != null) for (int s : ids) kept |= s == i;
                if (!kept) logits[i] = Float.NEGATIVE_INFINITY;
            }
        }
    }
}
