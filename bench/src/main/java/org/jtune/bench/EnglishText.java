package org.jtune.bench;

import java.util.SplittableRandom;

/**
 * Deterministic English-like prose for tokenizer benchmarks: sentences drawn from a fixed word list with
 * capitals, commas, numbers, quotes and paragraph breaks, from a fixed seed (same bytes on every run).
 * One word in twelve is a random letter string, so that a word cache cannot hold the whole text and
 * the BPE merge loop keeps being measured.
 */
final class EnglishText {
    private EnglishText() {}

    private static final String[] WORDS = ("""
            the of and to a in is it you that he was for on are with as I his they be at one have this from
            or had by hot word but what some we can out other were all there when up use your how said an each
            she which do their time if will way about many then them write would like so these her long make
            thing see him two has look more day could go come did number sound no most people my over know
            water than call first who may down side been now find any new work part take get place made live
            where after back little only round man year came show every good me give our under name very
            through just form sentence great think say help low line differ turn cause much mean before move
            right boy old too same tell does set three want air well also play small end put home read hand
            port large spell add even land here must big high such follow act why ask men change went light
            kind off need house picture try us again animal point mother world near build self earth father
            head stand own page should country found answer school grow study still learn plant cover food sun
            four between state keep eye never last let thought city tree cross farm hard start might story saw
            far sea draw left late run don't while press close night real life few north open seem together
            next white children begin got walk example ease paper group always music those both mark often
            letter until mile river car feet care second book carry took science eat room friend began idea
            fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual
            young ready above ever red list though feel talk bird soon body dog family direct pose leave song
            measure door product black short numeral class wind question happen complete ship area half rock
            order fire south problem piece told knew pass since top whole king space heard best hour better
            true during hundred five remember step early hold west ground interest reach fast verb sing listen
            six table travel less morning ten simple several vowel toward war lay against pattern slow center
            love person money serve appear road map rain rule govern pull cold notice voice unit power town
            fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest correct
            able pound done beauty drive stood contain front teach week final gave green oh quick develop ocean
            warm free minute strong special mind behind clear tail produce fact street inch multiply nothing
            course stay wheel full force blue object decide surface deep moon island foot system busy test
            record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape
            equate miss brought heat snow tire bring yes distant fill east paint language among account card
            bank balance transfer payment customer refund""").trim().split("\\s+");

    private static String randomWord(SplittableRandom random) {
        StringBuilder w = new StringBuilder();
        int length = 3 + random.nextInt(8);
        for (int i = 0; i < length; i++) w.append((char) ('a' + random.nextInt(26)));
        return w.toString();
    }

    /** At least size characters of prose. */
    static String generate(int size, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder out = new StringBuilder(size + 200);
        while (out.length() < size) {
            int sentences = 3 + random.nextInt(5);
            for (int s = 0; s < sentences; s++) {
                int words = 5 + random.nextInt(14);
                for (int w = 0; w < words; w++) {
                    String word = WORDS[random.nextInt(WORDS.length)];
                    if (w == 0) word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
                    if (random.nextInt(12) == 0) word = randomWord(random);
                    if (random.nextInt(40) == 0) word = Integer.toString(random.nextInt(2030));
                    if (random.nextInt(60) == 0) word = "\"" + word + "\"";
                    out.append(word);
                    if (w + 1 < words) out.append(random.nextInt(9) == 0 ? ", " : " ");
                }
                out.append(switch (random.nextInt(10)) {
                    case 0 -> "? ";
                    case 1 -> "! ";
                    default -> ". ";
                });
            }
            out.setLength(out.length() - 1);
            out.append('\n');
        }
        return out.toString();
    }
}
