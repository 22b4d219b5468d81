package org.jtune.models.chat;

import java.util.List;
import java.util.Map;

/**
 * Chat templates written here for models whose folder has none (stories260K, a bare tiktoken Llama 3):
 * chatml, llama2, llama3 and mistral, each with the special-token strings its format expects.
 */
final class BuiltinTemplates {
    private BuiltinTemplates() {}

    record Builtin(String source, Map<String, String> specialTokens) {}

    static final List<String> NAMES = List.of("chatml", "llama2", "llama3", "mistral");

    /** ChatML: <|im_start|>role\ncontent<|im_end|>\n per message, then <|im_start|>assistant\n. */
    private static final String CHATML = """
            {%- for message in messages %}
            {{- '<|im_start|>' + message['role'] + '\\n' + (message['content'] if message['content'] is string else '') + '<|im_end|>\\n' }}
            {%- endfor %}
            {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\\n' }}
            {%- endif %}
            """;

    /** Llama 2 chat: <s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] answer </s> per exchange. */
    private static final String LLAMA2 = """
            {%- if messages and messages[0]['role'] == 'system' %}
            {%- set system = messages[0]['content'] %}
            {%- set turns = messages[1:] %}
            {%- else %}
            {%- set system = none %}
            {%- set turns = messages %}
            {%- endif %}
            {%- for message in turns %}
            {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
            {{- raise_exception('llama2 template: after an optional system message, roles must alternate user/assistant') }}
            {%- endif %}
            {%- if message['role'] == 'user' %}
            {%- if loop.first and system is not none %}
            {{- bos_token + '[INST] <<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' + (message['content'] | trim) + ' [/INST]' }}
            {%- else %}
            {{- bos_token + '[INST] ' + (message['content'] | trim) + ' [/INST]' }}
            {%- endif %}
            {%- else %}
            {{- ' ' + (message['content'] | trim) + ' ' + eos_token }}
            {%- endif %}
            {%- endfor %}
            """;

    /**
     * Llama 3 instruct: header-delimited turns ending in <|eot_id|>. With tools (Llama 3.1's JSON calls), the first user turn
     * opens with the functions and how to call one; an earlier call is an assistant turn holding {"name": ...,
     * "parameters": ...}, one per turn, and a result an ipython turn.
     */
    private static final String LLAMA3 = """
            {{- bos_token }}
            {%- set ns = namespace(tools_shown=false) %}
            {%- for message in messages %}
            {%- if message['role'] == 'tool' or message['role'] == 'ipython' %}
            {{- '<|start_header_id|>ipython<|end_header_id|>\\n\\n' + (message['content'] if message['content'] is string else message['content'] | tojson) + '<|eot_id|>' }}
            {%- elif message['role'] == 'assistant' and message['tool_calls'] %}
            {%- for call in message['tool_calls'] %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n{"name": "' + call['function']['name'] + '", "parameters": ' + (call['function']['arguments'] | tojson) + '}<|eot_id|>' }}
            {%- endfor %}
            {%- elif message['role'] == 'user' and tools and not ns.tools_shown %}
            {%- set ns.tools_shown = true %}
            {{- '<|start_header_id|>user<|end_header_id|>\\n\\nTo call one of the functions below, answer with a JSON object alone: {"name": the function, "parameters": an object of its arguments}.\\n\\n' }}
            {%- for t in tools %}
            {{- t | tojson(indent=4) + '\\n\\n' }}
            {%- endfor %}
            {{- (message['content'] | trim) + '<|eot_id|>' }}
            {%- else %}
            {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + (message['content'] | trim) + '<|eot_id|>' }}
            {%- endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
            {%- endif %}
            """;

    /** Mistral instruct (v0.1/v0.2): <s>[INST] user [/INST]answer</s>, the system text before the first user turn. */
    private static final String MISTRAL = """
            {%- if messages and messages[0]['role'] == 'system' %}
            {%- set system = messages[0]['content'] %}
            {%- set turns = messages[1:] %}
            {%- else %}
            {%- set system = none %}
            {%- set turns = messages %}
            {%- endif %}
            {{- bos_token }}
            {%- for message in turns %}
            {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
            {{- raise_exception('mistral template: after an optional system message, roles must alternate user/assistant') }}
            {%- endif %}
            {%- if message['role'] == 'user' %}
            {%- if loop.first and system is not none %}
            {{- '[INST] ' + system + '\\n\\n' + message['content'] + ' [/INST]' }}
            {%- else %}
            {{- '[INST] ' + message['content'] + ' [/INST]' }}
            {%- endif %}
            {%- else %}
            {{- message['content'] + eos_token }}
            {%- endif %}
            {%- endfor %}
            """;

    static Builtin get(String name) {
        return switch (name) {
            case "chatml" -> new Builtin(CHATML, Map.of());
            case "llama2" -> new Builtin(LLAMA2, Map.of("bos_token", "<s>", "eos_token", "</s>"));
            case "llama3" -> new Builtin(LLAMA3, Map.of("bos_token", "<|begin_of_text|>", "eos_token", "<|eot_id|>"));
            case "mistral" -> new Builtin(MISTRAL, Map.of("bos_token", "<s>", "eos_token", "</s>"));
            default -> null;
        };
    }
}
