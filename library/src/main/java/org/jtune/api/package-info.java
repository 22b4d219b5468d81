/**
 * jtune as a library: {@link org.jtune.api.LanguageModel} loads a Hugging Face model folder and completes,
 * chats, scores continuations, fine-tunes, evaluates and saves its adapter. Run the JVM with {@code --add-modules jdk.incubator.vector}.
 */
package org.jtune.api;
