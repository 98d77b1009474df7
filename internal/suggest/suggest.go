// Package suggest finds the valid name a misspelt one was meant to be, for
// error messages that say "did you mean ...?".
package suggest

// Nearest returns the name in known closest to s by edit distance, if it
// is close enough to be a typo (fewer edits than half its length, plus
// two), and "" otherwise; a tie goes to the name first in sort order.
func Nearest(s string, known []string) string {
	best, bestD := "", len(s)/2+2
	for _, k := range known {
		if d := editDistance(s, k); d < bestD || d == bestD && best != "" && k < best {
			best, bestD = k, d
		}
	}
	if bestD >= len(s)/2+2 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
