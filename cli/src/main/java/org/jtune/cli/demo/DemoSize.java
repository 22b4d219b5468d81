package org.jtune.cli.demo;

/**
 * How big a demo run is: tickets per split and training epochs. {@link #FULL} is what `jtune demo`
 * runs (about a minute of training on 2 cores); {@link #REDUCED} keeps every step but trains less,
 * for the test that checks the artefacts.
 *
 * @param train          training tickets (also the size of the pre-training corpus, twice over)
 * @param validation     validation tickets (accuracy during training)
 * @param test           test tickets (baseline and fine-tuned evaluation)
 * @param pretrainEpochs epochs of full training that turn the random model into the "base"
 * @param loraEpochs     epochs of LoRA fine-tuning
 */
public record DemoSize(int train, int validation, int test, int pretrainEpochs, int loraEpochs) {
    public static final DemoSize FULL = new DemoSize(640, 80, 120, 4, 3);
    public static final DemoSize REDUCED = new DemoSize(240, 24, 40, 3, 6);

    public DemoSize {
        if (train < HelpdeskTickets.labels().size() || validation < 1 || test < 1 || pretrainEpochs < 1 || loraEpochs < 1) {
            throw new IllegalArgumentException("demo size too small: " + this);
        }
    }
}
