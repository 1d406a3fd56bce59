# Reference numbers from R `survey` for svyglm with formulas, families, missing
# values and subset designs (tests/survey/test_glm_r.py). Run from this directory:
#   Rscript make_glm_reference.R
# Reads the API samples written by make_reference.R; writes glm_reference.csv
# (case, term, statistic, value, call) at full precision. CI has no R.
suppressMessages(library(survey))
apiclus1 <- read.csv("apiclus1.csv")
apistrat <- read.csv("apistrat.csv")
apiclus2 <- read.csv("apiclus2.csv")
apiclus1$yes <- as.numeric(apiclus1$sch.wide == "Yes")

rows <- list()
put <- function(case, term, statistic, value, call) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, term = term, statistic = statistic,
    value = sprintf("%.15g", as.numeric(value)), call = call, stringsAsFactors = FALSE)
}
put_glm <- function(case, call) {
  m <- eval(parse(text = call))
  cf <- summary(m)$coefficients
  for (i in seq_len(nrow(cf))) {
    term <- rownames(cf)[i]
    put(case, term, "estimate", cf[i, 1], call)
    put(case, term, "se", cf[i, 2], call)
    put(case, term, "statistic", cf[i, 3], call)
    put(case, term, "p_value", cf[i, 4], call)
  }
  ci <- confint(m, method = "Wald", ddf = m$df.residual)
  for (i in seq_len(nrow(ci))) {
    put(case, rownames(ci)[i], "ci_low", ci[i, 1], call)
    put(case, rownames(ci)[i], "ci_high", ci[i, 2], call)
  }
  put(case, "", "df_residual", m$df.residual, call)
  put(case, "", "n", sum(weights(m$survey.design, "sampling")[complete.cases(model.frame(m))] > 0), call)
  put(case, "", "converged", m$converged, call)
}

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
dps <- postStratify(dclus1, ~stype, pop.types)

put_glm("dclus1_gauss_interaction", "svyglm(api00 ~ ell * stype + meals, design = dclus1)")
put_glm("dstrat_gauss_factor_by_factor", "svyglm(api00 ~ stype * awards + ell, design = dstrat)")
# missing values: rows with NA acs.46 are dropped and the df are those of the complete cases
put_glm("dstrat_gauss_missing", "svyglm(api00 ~ acs.46 + ell, design = dstrat)")
put_glm("dclus1_gauss_missing", "svyglm(api00 ~ avg.ed + stype, design = dclus1)")
put_glm("dclus1_quasibinomial", "svyglm(yes ~ ell + stype, design = dclus1, family = quasibinomial())")
put_glm("dclus2_quasipoisson_missing", "svyglm(enroll ~ api00 + stype, design = dclus2, family = quasipoisson())")
put_glm("dstrat_quasipoisson", "svyglm(api.stu ~ ell + meals, design = dstrat, family = quasipoisson())")
put_glm("dclus1_subset_gauss", 'svyglm(api00 ~ ell + meals, design = subset(dclus1, stype != "E"))')
put_glm("dclus1_ps_gauss", "svyglm(api00 ~ ell + stype, design = dps)")
put_glm("dclus1_ps_subset_quasibinomial",
        'svyglm(yes ~ ell, design = subset(dps, stype != "E"), family = quasibinomial())')

# regTermTest (Wald): F on the residual df, or chi-square with df = Inf
put_wald <- function(case, call) {
  t <- eval(parse(text = call))
  if (is.null(t$Ftest)) put(case, "", "statistic", t$chisq, call) else put(case, "", "statistic", t$Ftest, call)
  put(case, "", "ndf", t$df, call)
  put(case, "", "p_value", t$p, call)
}
m1 <- svyglm(api00 ~ ell * stype + meals, design = dclus1)
put_wald("wald_interaction", "regTermTest(m1, ~stype:ell)")
put_wald("wald_two_terms", "regTermTest(m1, ~stype + ell:stype)")
put_wald("wald_chisq", "regTermTest(m1, ~stype, df = Inf)")
m2 <- svyglm(yes ~ ell + stype, design = dclus1, family = quasibinomial())
put_wald("wald_quasibinomial", "regTermTest(m2, ~stype)")
m3 <- svyglm(api00 ~ acs.46 + ell + stype, design = dstrat)
put_wald("wald_missing", "regTermTest(m3, ~acs.46 + ell)")

out <- do.call(rbind, rows)
write.csv(out, "glm_reference.csv", row.names = FALSE)
cat("wrote", nrow(out), "reference values\n")
