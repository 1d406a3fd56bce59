# Reference numbers from R `survey` for svyvar, svyquantile, svyttest and svychisq
# (tests/survey/test_stats_r.py). Run from this directory:
#   Rscript make_stats_reference.R
# Reads the API samples written by make_reference.R; writes stats_reference.csv
# (case, term, statistic, value, call) at full precision. CI has no R.
suppressMessages(library(survey))
apiclus1 <- read.csv("apiclus1.csv")
apistrat <- read.csv("apistrat.csv")
apiclus2 <- read.csv("apiclus2.csv")

rows <- list()
put <- function(case, term, statistic, value, call) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, term = term, statistic = statistic,
    value = sprintf("%.15g", as.numeric(value)), call = call, stringsAsFactors = FALSE)
}
run <- function(call) eval(parse(text = call))

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
dps <- postStratify(dclus1, ~stype, pop.types)

# svyvar: estimate and SE
put_var <- function(case, call) {
  v <- run(call)
  put(case, "", "estimate", coef(v)[1], call)
  put(case, "", "se", SE(v)[1], call)
}
put_var("dclus1_var_api00", "svyvar(~api00, dclus1)")
put_var("dstrat_var_api00", "svyvar(~api00, dstrat)")
put_var("dclus1_var_avged_narm", "svyvar(~avg.ed, dclus1, na.rm = TRUE)")
put_var("dclus1_ps_var_api00", "svyvar(~api00, dps)")
call <- "svyby(~api00, ~stype, dclus1, svyvar)"
b <- run(call)
for (k in rownames(b)) {
  put("dclus1_by_stype_var_api00", k, "estimate", b[k, 2], call)
  put("dclus1_by_stype_var_api00", k, "se", b[k, 3], call)
}
call <- "svyby(~avg.ed, ~stype, dclus1, svyvar, na.rm = TRUE)"
b <- run(call)
for (k in rownames(b)) {
  put("dclus1_by_stype_var_avged", k, "estimate", b[k, 2], call)
  put("dclus1_by_stype_var_avged", k, "se", b[k, 3], call)
}

# svyquantile (survey >= 4.1): quantile, Woodruff interval, SE
put_q <- function(case, call) {
  q <- run(call)[[1]]
  for (i in seq_len(nrow(q))) {
    term <- rownames(q)[i]
    put(case, term, "estimate", q[i, 1], call)
    put(case, term, "ci_low", q[i, 2], call)
    put(case, term, "ci_high", q[i, 3], call)
    put(case, term, "se", q[i, 4], call)
  }
}
put_q("dclus1_q_api00", "svyquantile(~api00, dclus1, c(0.1, 0.25, 0.5, 0.75, 0.9))")
put_q("dstrat_q_api00", "svyquantile(~api00, dstrat, c(0.25, 0.5, 0.75))")
put_q("dclus2_q_api00", "svyquantile(~api00, dclus2, c(0.5))")
put_q("dclus1_q_avged_narm", "svyquantile(~avg.ed, dclus1, c(0.25, 0.5), na.rm = TRUE)")
put_q("dclus1_ps_q_api00", "svyquantile(~api00, dps, c(0.5, 0.9))")
for (rule in c("school", "hf7")) {
  put_q(paste0("dstrat_q_api00_", rule),
        sprintf('svyquantile(~api00, dstrat, c(0.25, 0.5, 0.75), qrule = "%s")', rule))
}
for (it in c("xlogit", "asin", "beta")) {
  put_q(paste0("dclus1_q_api00_", it),
        sprintf('svyquantile(~api00, dclus1, c(0.25, 0.5), interval.type = "%s")', it))
}
call <- "svyby(~api00, ~stype, dclus1, svyquantile, quantiles = 0.5, vartype = c('se', 'ci'))"
b <- run(call)
for (k in rownames(b)) {
  put("dclus1_by_stype_median_api00", k, "estimate", b[k, 2], call)
  put("dclus1_by_stype_median_api00", k, "se", b$se[b$stype == k], call)
  put("dclus1_by_stype_median_api00", k, "ci_low", b$ci_l[b$stype == k], call)
  put("dclus1_by_stype_median_api00", k, "ci_high", b$ci_u[b$stype == k], call)
}

# svyttest
put_t <- function(case, call) {
  t <- run(call)
  put(case, "", "estimate", t$estimate, call)
  put(case, "", "statistic", t$statistic, call)
  put(case, "", "df", t$parameter, call)
  put(case, "", "p_value", t$p.value, call)
  put(case, "", "ci_low", t$conf.int[1], call)
  put(case, "", "ci_high", t$conf.int[2], call)
}
put_t("dclus1_ttest_awards", "svyttest(api00 ~ awards, dclus1)")
put_t("dstrat_ttest_schwide", "svyttest(api00 ~ sch.wide, dstrat)")
put_t("dclus1_ttest_avged_awards", "svyttest(avg.ed ~ awards, dclus1)")
put_t("dclus1_ttest_growth_zero", "svyttest(I(api00 - api99) ~ 0, dclus1)")
put_t("dclus1_ps_ttest_awards", "svyttest(api00 ~ awards, dps)")

# svychisq: Rao-Scott second order (F) and first order (Chisq)
put_chi <- function(case, call) {
  x <- run(call)
  put(case, "", "statistic", x$statistic, call)
  put(case, "", "p_value", x$p.value, call)
  if (length(x$parameter) == 2) {
    put(case, "", "ndf", x$parameter[1], call)
    put(case, "", "ddf", x$parameter[2], call)
  } else {
    put(case, "", "df", x$parameter[1], call)
  }
}
put_chi("dclus1_chisq_F_schwide_stype", "svychisq(~sch.wide + stype, dclus1)")
put_chi("dclus1_chisq_Chisq_schwide_stype", 'svychisq(~sch.wide + stype, dclus1, statistic = "Chisq")')
put_chi("dstrat_chisq_F_awards_stype", "svychisq(~awards + stype, dstrat)")
put_chi("dclus2_chisq_F_schwide_both", "svychisq(~sch.wide + both, dclus2)")
put_chi("dclus1_ps_chisq_F_awards_stype", "svychisq(~awards + stype, dps)")
apiclus1$edcat <- cut(apiclus1$avg.ed, c(0, 2.5, 3, 5))
dclus1e <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
write.csv(data.frame(edcat = as.character(apiclus1$edcat)), "apiclus1_edcat.csv", row.names = FALSE)
put_chi("dclus1_chisq_F_edcat_stype_missing", "svychisq(~edcat + stype, dclus1e)")
for (st in c("Wald", "adjWald")) {
  put_chi(paste0("dclus1_chisq_", st, "_schwide_stype"), sprintf('svychisq(~sch.wide + stype, dclus1, statistic = "%s")', st))
  put_chi(paste0("dstrat_chisq_", st, "_awards_stype"), sprintf('svychisq(~awards + stype, dstrat, statistic = "%s")', st))
  put_chi(paste0("dclus1_ps_chisq_", st, "_edcat"), sprintf('svychisq(~edcat + stype, postStratify(dclus1e, ~stype, pop.types), statistic = "%s")', st))
}
put_chi("dclus1_subset_chisq_F", 'svychisq(~sch.wide + awards, subset(dclus1, stype != "E"))')

# trimWeights: trimmed weights (sum, extremes) and estimates on the trimmed design
put_trim <- function(case, call) {
  d <- run(call)
  w <- weights(d)
  put(case, "", "sum", sum(w), call)
  put(case, "", "min", min(w), call)
  put(case, "", "max", max(w), call)
  m <- svymean(~api00, d)
  put(case, "", "estimate", coef(m), call)
  put(case, "", "se", SE(m), call)
  t <- svytotal(~enroll, d, na.rm = TRUE)
  put(case, "", "total", coef(t), call)
  put(case, "", "total_se", SE(t), call)
}
put_trim("trim_dstrat_upper", "trimWeights(dstrat, upper = 40)")
put_trim("trim_dstrat_lower", "trimWeights(dstrat, lower = 18)")
put_trim("trim_dstrat_strict", "trimWeights(dstrat, upper = 35, strict = TRUE)")
put_trim("trim_dclus2_upper", "trimWeights(dclus2, upper = 60)")

out <- do.call(rbind, rows)
write.csv(out, "stats_reference.csv", row.names = FALSE)
cat("wrote", nrow(out), "reference values\n")
