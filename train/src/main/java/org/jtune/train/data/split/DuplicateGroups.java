package org.jtune.train.data.split;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.NearDuplicateIndex;

/**
 * Examples that must land in the same split: the connected components of "same input" links,
 * where two examples are linked when their inputs have the same {@link NearDuplicateIndex#inputText}
 * (exact duplicates, and the case/punctuation/whitespace variants data check calls near
 * duplicates) or are near duplicates by shingle Jaccard at or above the threshold. Links are
 * transitive (union-find), so a chain of small edits forms one group. Groups are numbered in
 * the order of their first member.
 *
 * @param groupOf      for each example, its group
 * @param members      for each group, its examples' indices, ascending
 * @param sameText     examples joined to a group because their normalised input equals an earlier one's
 * @param nearLinks    near-duplicate links that joined two groups
 */
public record DuplicateGroups(int[] groupOf, List<int[]> members, long sameText, long nearLinks) {

    /**
     * @param nearThreshold the Jaccard threshold, or 0 to link only equal normalised inputs
     */
    public static DuplicateGroups of(List<Conversation> examples, double nearThreshold) {
        int n = examples.size();
        UnionFind sets = new UnionFind(n);
        Map<String, Integer> firstWithText = new HashMap<>();
        List<Integer> distinct = new ArrayList<>();
        List<String> distinctText = new ArrayList<>();
        long sameText = 0;
        for (int i = 0; i < n; i++) {
            String text = NearDuplicateIndex.inputText(examples.get(i));
            Integer first = firstWithText.putIfAbsent(text, i);
            if (first == null) {
                distinct.add(i);
                distinctText.add(text);
            } else if (sets.union(first, i)) {
                sameText++;
            }
        }
        long near = 0;
        if (nearThreshold > 0) {
            NearDuplicateIndex index = new NearDuplicateIndex(nearThreshold);
            for (int d = 0; d < distinct.size(); d++) {
                for (int m : index.matches(distinctText.get(d))) {
                    if (sets.union(distinct.get(m), distinct.get(d))) near++;
                }
                index.add(distinctText.get(d));
            }
        }
        int[] groupOf = new int[n];
        Map<Integer, Integer> groupOfRoot = new HashMap<>();
        List<List<Integer>> lists = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int root = sets.find(i);
            Integer g = groupOfRoot.get(root);
            if (g == null) {
                g = lists.size();
                groupOfRoot.put(root, g);
                lists.add(new ArrayList<>(1));
            }
            groupOf[i] = g;
            lists.get(g).add(i);
        }
        List<int[]> members = new ArrayList<>(lists.size());
        for (List<Integer> l : lists) members.add(l.stream().mapToInt(Integer::intValue).toArray());
        return new DuplicateGroups(groupOf, members, sameText, near);
    }

    public int groups() {
        return members.size();
    }

    /** Groups of two or more examples. */
    public long multiMemberGroups() {
        return members.stream().filter(m -> m.length > 1).count();
    }

    /** Examples in groups of two or more. */
    public long examplesInMultiMemberGroups() {
        return members.stream().filter(m -> m.length > 1).mapToLong(m -> m.length).sum();
    }
}
