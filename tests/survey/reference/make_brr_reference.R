# Reference numbers from R `survey` for balanced repeated replication (BRR) and Fay's
# method (tests/survey/test_brr_r.py). Run from this directory:
#   Rscript make_brr_reference.R
# Writes brr_sample.csv (a stratified sample with two PSUs in each of 12 strata, and a
# 9-stratum subset), brr_hadamard_9.csv (the Hadamard matrix R uses for 9 strata, 12 x 12,
# which is not of Sylvester's kind) and brr_reference.csv (case, term, statistic, value,
# call). CI has no R.
suppressMessages(library(survey))
set.seed(20261204)
strata <- rep(sprintf("s%02d", 1:12), each = 2)
psus <- data.frame(stratum = strata, psu = sprintf("p%02d", 1:24), size = sample(3:7, 24, replace = TRUE))
rows <- psus[rep(seq_len(nrow(psus)), psus$size), c("stratum", "psu")]
n <- nrow(rows)
rows$w <- round(runif(n, 20, 80), 1)
rows$y <- round(rnorm(n, 50 + as.integer(factor(rows$stratum)), 8), 2)
rows$yes <- rbinom(n, 1, 0.35 + 0.02 * as.integer(factor(rows$psu)) %% 5)
rows$g <- sample(c("a", "b", "c"), n, replace = TRUE)
rows <- rows[sample(n), ]  # PSUs appear in no particular order
write.csv(rows, "brr_sample.csv", row.names = FALSE)

out <- list()
put <- function(case, term, statistic, value, call) {
  out[[length(out) + 1]] <<- data.frame(
    case = case, term = term, statistic = statistic,
    value = sprintf("%.15g", as.numeric(value)), call = call, stringsAsFactors = FALSE)
}
record <- function(case, rep, call_design) {
  put(case, "", "scale", rep$scale, call_design)
  put(case, "", "replicates", ncol(rep$repweights$weights), call_design)
  put(case, "", "degf", degf(rep), call_design)
  m <- svymean(~y, rep)
  put(case, "y", "mean", coef(m), "svymean(~y, rep)")
  put(case, "y", "mean_se", SE(m), "svymean(~y, rep)")
  t <- svytotal(~y, rep)
  put(case, "y", "total", coef(t), "svytotal(~y, rep)")
  put(case, "y", "total_se", SE(t), "svytotal(~y, rep)")
  b <- svyby(~y, ~g, rep, svymean)
  for (k in rownames(b)) {
    put(case, k, "mean", b[k, "y"], "svyby(~y, ~g, rep, svymean)")
    put(case, k, "mean_se", b[k, "se"], "svyby(~y, ~g, rep, svymean)")
  }
  p <- svymean(~yes, rep)
  put(case, "yes", "mean", coef(p), "svymean(~yes, rep)")
  put(case, "yes", "mean_se", SE(p), "svymean(~yes, rep)")
}
design <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = rows)
record("brr", as.svrepdesign(design, type = "BRR"), "as.svrepdesign(design, type = 'BRR')")
record("fay", as.svrepdesign(design, type = "Fay", fay.rho = 0.5), "as.svrepdesign(design, type = 'Fay', fay.rho = 0.5)")
lin <- svytotal(~y, design)
put("linearised", "y", "total_se", SE(lin), "svytotal(~y, design)")

nine <- rows[rows$stratum %in% sprintf("s%02d", 1:9), ]
design9 <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = nine)
h9 <- survey:::hadamard(9)
write.csv(h9, "brr_hadamard_9.csv", row.names = FALSE)
record("brr9", as.svrepdesign(design9, type = "BRR"), "as.svrepdesign(design9, type = 'BRR')")
write.csv(do.call(rbind, out), "brr_reference.csv", row.names = FALSE)
