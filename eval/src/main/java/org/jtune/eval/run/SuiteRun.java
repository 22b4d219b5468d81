package org.jtune.eval.run;

import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.suite.RegressionSuite;

/** Answers of a model to every item of a regression suite (batched greedy generation through the chat template). */
public final class SuiteRun {
    private SuiteRun() {}

    public static List<String> answers(ModelEvaluation run, RegressionSuite suite) throws JtuneException {
        List<ChatTestSet.Example> asExamples = new ArrayList<>();
        for (RegressionSuite.Item item : suite.items()) asExamples.add(new ChatTestSet.Example(item.id(), item.messages(), "", suite.name() + ":" + item.id()));
        List<String> out = new ArrayList<>();
        for (var p : run.run(asExamples)) out.add(p.prediction());
        return out;
    }
}
