# Reference numbers from R `survey` for tests/survey (run from this directory:
#   Rscript make_reference.R
# ). Writes the California API samples (apiclus1, apistrat, apiclus2) as CSV and
# every reference number to reference_values.csv (case, term, statistic, value),
# full precision. CI has no R: the tests read only the stored files.
suppressMessages(library(survey))
data(api)

write.csv(apiclus1, "apiclus1.csv", row.names = FALSE)
write.csv(apistrat, "apistrat.csv", row.names = FALSE)
write.csv(apiclus2, "apiclus2.csv", row.names = FALSE)

rows <- list()
put <- function(case, term, statistic, value) {
  value <- as.numeric(value)
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, term = term, statistic = statistic,
    value = sprintf("%.15g", value), stringsAsFactors = FALSE)
}
put_stat <- function(case, est, df = NULL) {
  # a svystat / svyby object: estimate, se, (deff), (ci with df)
  cf <- coef(est); s <- as.numeric(unlist(SE(est)))
  d <- tryCatch(as.numeric(unlist(deff(est))), error = function(e) NULL)
  for (i in seq_along(cf)) {
    put(case, names(cf)[i], "estimate", cf[i])
    put(case, names(cf)[i], "se", s[i])
    if (length(d) == length(cf) && !is.na(d[i])) put(case, names(cf)[i], "deff", d[i])
  }
  if (!is.null(df)) {
    ci <- confint(est, df = df)
    for (i in seq_along(cf)) {
      put(case, names(cf)[i], "ci_low", ci[i, 1])
      put(case, names(cf)[i], "ci_high", ci[i, 2])
    }
  }
}

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
put("dclus1", "", "degf", degf(dclus1))
put("dstrat", "", "degf", degf(dstrat))
put("dclus2", "", "degf", degf(dclus2))

# means, totals, domains, design effects, confidence intervals
put_stat("dclus1_mean_api00", svymean(~api00, dclus1, deff = TRUE), degf(dclus1))
put_stat("dclus1_mean_api00_deffreplace", svymean(~api00, dclus1, deff = "replace"))
put_stat("dclus1_total_enroll", svytotal(~enroll, dclus1, deff = TRUE), degf(dclus1))
put_stat("dclus1_by_stype_ell_meals",
         svyby(~ell + meals, ~stype, dclus1, svymean, deff = TRUE), degf(dclus1))
put_stat("dclus1_by_stype_total_enroll", svyby(~enroll, ~stype, dclus1, svytotal, deff = TRUE))
put_stat("dclus1_mean_avged_narm", svymean(~avg.ed, dclus1, na.rm = TRUE, deff = TRUE))
put_stat("dclus1_by_stype_avged_narm",
         svyby(~avg.ed, ~stype, dclus1, svymean, na.rm = TRUE, deff = TRUE))
put_stat("dclus1_by_stype_schwide_api00",
         svyby(~api00, ~stype + sch.wide, dclus1, svymean, deff = TRUE))
put_stat("dclus1_mean_stype_shares", svymean(~stype, dclus1, deff = TRUE))
put_stat("dclus1_by_stype_schwide_shares", svyby(~sch.wide, ~stype, dclus1, svymean))

put_stat("dstrat_mean_api00", svymean(~api00, dstrat, deff = TRUE), degf(dstrat))
put_stat("dstrat_by_stype_api00", svyby(~api00, ~stype, dstrat, svymean, deff = TRUE))
put_stat("dstrat_by_awards_api00", svyby(~api00, ~awards, dstrat, svymean, deff = TRUE))
put_stat("dstrat_total_enroll", svytotal(~enroll, dstrat, deff = TRUE))

put_stat("dclus2_mean_api00", svymean(~api00, dclus2, deff = TRUE), degf(dclus2))
put_stat("dclus2_by_stype_api00", svyby(~api00, ~stype, dclus2, svymean))
put_stat("dclus2_total_enroll_narm", svytotal(~enroll, dclus2, na.rm = TRUE))
put_stat("dclus2_mean_enroll_narm", svymean(~enroll, dclus2, na.rm = TRUE))

# ratio
r <- svyratio(~api.stu, ~enroll, dclus1)
put("dclus1_ratio_apistu_enroll", "api.stu/enroll", "estimate", coef(r))
put("dclus1_ratio_apistu_enroll", "api.stu/enroll", "se", SE(r))
rb <- svyby(~api.stu, by = ~stype, denominator = ~enroll, design = dclus1, FUN = svyratio)
put_stat("dclus1_by_stype_ratio_apistu_enroll", rb)

# contrasts of domain means (difference and ratio) from the domain covariance
b <- svyby(~api00, ~stype, dclus1, svymean, covmat = TRUE)
put("dclus1_by_stype_api00_vcov", "E,H", "cov", vcov(b)["E", "H"])
put("dclus1_by_stype_api00_vcov", "E,E", "cov", vcov(b)["E", "E"])
put_stat("dclus1_contrast_E_minus_H", svycontrast(b, c(E = 1, H = -1)))
put_stat("dclus1_contrast_E_over_H", svycontrast(b, quote(E / H)))

# regression
m <- svyglm(api00 ~ ell + meals, design = dclus1)
put_stat("dclus1_svyglm_api00_ell_meals", m)
put("dclus1_svyglm_api00_ell_meals", "", "df_residual", m$df.residual)
ml <- svyglm(I(sch.wide == "Yes") ~ ell + meals, design = dclus1, family = quasibinomial())
put_stat("dclus1_svyglm_logit_schwide", ml)
ms <- svyglm(api00 ~ ell + meals + stype, design = dstrat)
put_stat("dstrat_svyglm_api00_ell_meals_stype", ms)

# proportions with confidence intervals
for (meth in c("logit", "likelihood", "asin", "beta", "mean", "xlogit")) {
  p <- svyciprop(~I(sch.wide == "Yes"), dclus1, method = meth)
  case <- paste0("dclus1_ciprop_schwide_", meth)
  put(case, "Yes", "estimate", coef(p))
  put(case, "Yes", "se", SE(p))
  put(case, "Yes", "ci_low", confint(p)[1])
  put(case, "Yes", "ci_high", confint(p)[2])
}
for (meth in c("logit", "beta", "mean")) {
  p <- svyciprop(~I(stype == "H"), dclus1, method = meth)
  case <- paste0("dclus1_ciprop_stypeH_", meth)
  put(case, "H", "estimate", coef(p))
  put(case, "H", "ci_low", confint(p)[1])
  put(case, "H", "ci_high", confint(p)[2])
}

# post-stratification and raking
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
dps <- postStratify(dclus1, ~stype, pop.types)
put_stat("dclus1_ps_mean_api00", svymean(~api00, dps, deff = TRUE))
put_stat("dclus1_ps_by_schwide_api00", svyby(~api00, ~sch.wide, dps, svymean))
put_stat("dclus1_ps_total_enroll", svytotal(~enroll, dps))
drk <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
put_stat("dclus1_rake_mean_api00", svymean(~api00, drk))
put_stat("dclus1_rake_by_stype_api00", svyby(~api00, ~stype, drk, svymean))
drk_tight <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
                  control = list(maxit = 100, epsilon = 1e-13))
put_stat("dclus1_raketight_mean_api00", svymean(~api00, drk_tight))
put_stat("dclus1_raketight_by_stype_api00", svyby(~api00, ~stype, drk_tight, svymean))
put_stat("dclus1_raketight_total_enroll", svytotal(~enroll, drk_tight))
w <- weights(drk_tight)
put("dclus1_raketight_weights", "sum", "value", sum(w))
put("dclus1_raketight_weights", "first", "value", w[1])

# lonely PSUs: apiclus1 with three strata of districts, one of them a singleton
lonely <- apiclus1
lonely$lstrat <- ifelse(lonely$dnum == min(lonely$dnum), "S1",
                        ifelse(lonely$dnum < median(unique(lonely$dnum)), "S2", "S3"))
write.csv(lonely[, c("dnum", "lstrat")], "apiclus1_lonely_strata.csv", row.names = FALSE)
for (opt in c("remove", "certainty", "adjust", "average")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(id = ~dnum, strata = ~lstrat, weights = ~pw, data = lonely)
  put_stat(paste0("lonely_", opt, "_mean_api00"), svymean(~api00, dl))
  put_stat(paste0("lonely_", opt, "_by_stype_api00"), svyby(~api00, ~stype, dl, svymean))
  put(paste0("lonely_", opt), "", "degf", degf(dl))
}
options(survey.lonely.psu = "fail")

# replicate weights
jk <- as.svrepdesign(dclus1, type = "JK1")
put_stat("dclus1_jk1_mean_api00", svymean(~api00, jk))
put_stat("dclus1_jk1_by_stype_api00", svyby(~api00, ~stype, jk, svymean))
put_stat("dclus1_jk1_ratio_apistu_enroll", svyratio(~api.stu, ~enroll, jk))
jkn <- as.svrepdesign(dstrat, type = "JKn")
put_stat("dstrat_jkn_mean_api00", svymean(~api00, jkn))
jk_nofpc <- as.svrepdesign(svydesign(id = ~dnum, weights = ~pw, data = apiclus1), type = "JK1")
put_stat("dclus1nofpc_jk1_mean_api00", svymean(~api00, jk_nofpc))

out <- do.call(rbind, rows)
write.csv(out, "reference_values.csv", row.names = FALSE)
cat("wrote", nrow(out), "reference values\n")
