package org.jtune.eval.human;

import java.util.List;

/**
 * Imported blind A/B ratings, de-randomised with the key: per rater a list over items of "candidate",
 * "baseline", "tie" or null (unrated). Win rate counts every rating: wins / rated, and with ties as half a
 * win. Agreement is computed on the de-randomised preferences: Cohen's kappa when there are exactly two
 * raters (NaN otherwise), Fleiss' kappa over the items every rater rated (NaN with fewer than two raters
 * or no such item), Krippendorff's alpha (nominal) over all ratings.
 */
public record HumanEvalResult(List<String> raters, List<String> itemIds, List<List<String>> preferences,
                              long candidateWins, long baselineWins, long ties, long unrated,
                              double winRate, double winRateTiesHalf, double cohenKappa, double fleissKappa,
                              double krippendorffAlpha) {
}
