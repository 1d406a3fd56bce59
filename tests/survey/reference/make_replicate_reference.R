# Reference numbers from R `survey` for replicate-weight designs: domain degrees of
# freedom, proportions with intervals, and svyglm (tests/survey/test_replicates_r.py).
# Run from this directory:
#   Rscript make_replicate_reference.R
# Reads the API samples written by make_reference.R; writes replicate_reference.csv
# (case, term, statistic, value, call) and the bootstrap replicate weights of
# apistrat (apistrat_bootstrap.csv, with their scale in replicate_reference.csv),
# which the tests read as supplied (ESS-style) replicate weights. CI has no R.
suppressMessages(library(survey))
apiclus1 <- read.csv("apiclus1.csv")
apistrat <- read.csv("apistrat.csv")
apiclus1$yes <- as.numeric(apiclus1$sch.wide == "Yes")
apistrat$yes <- as.numeric(apistrat$sch.wide == "Yes")

rows <- list()
put <- function(case, term, statistic, value, call) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, term = term, statistic = statistic,
    value = sprintf("%.15g", as.numeric(value)), call = call, stringsAsFactors = FALSE)
}
run <- function(call) eval(parse(text = call))
put_ciprop_by <- function(case, call) {
  b <- run(call)
  for (i in seq_len(nrow(b))) {
    term <- rownames(b)[i]
    put(case, term, "estimate", b[i, 2], call)
    put(case, term, "se", b$se[i], call)
    put(case, term, "ci_low", b$ci_l[i], call)
    put(case, term, "ci_high", b$ci_u[i], call)
  }
}
put_glm <- function(case, call) {
  m <- run(call)
  cf <- summary(m)$coefficients
  for (i in seq_len(nrow(cf))) {
    put(case, rownames(cf)[i], "estimate", cf[i, 1], call)
    put(case, rownames(cf)[i], "se", cf[i, 2], call)
    put(case, rownames(cf)[i], "p_value", cf[i, 4], call)
  }
  put(case, "", "df_residual", m$df.residual, call)
}

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
jk <- as.svrepdesign(dclus1, type = "JK1")
set.seed(20261202)
boot <- as.svrepdesign(dstrat, type = "bootstrap", replicates = 40)
repw <- weights(boot, "analysis")
colnames(repw) <- paste0("rep", seq_len(ncol(repw)))
write.csv(repw, "apistrat_bootstrap.csv", row.names = FALSE)
put("boot", "", "scale", boot$scale, "as.svrepdesign(dstrat, type = 'bootstrap', replicates = 40)")
put("boot", "", "degf", degf(boot), "degf(boot)")

for (k in c("E", "H", "M")) {
  put("jk_degf_stype", k, "degf", degf(jk[apiclus1$stype == k, ]), sprintf('degf(jk[apiclus1$stype == "%s", ])', k))
}
for (k in c("No", "Yes")) {
  put("boot_degf_awards", k, "degf", degf(boot[apistrat$awards == k, ]),
      sprintf('degf(boot[apistrat$awards == "%s", ])', k))
}

for (meth in c("logit", "mean", "xlogit", "beta")) {
  put_ciprop_by(paste0("jk_by_stype_ciprop_", meth),
                sprintf('svyby(~yes, ~stype, jk, svyciprop, method = "%s", vartype = c("se", "ci"))', meth))
  put_ciprop_by(paste0("boot_by_awards_ciprop_", meth),
                sprintf('svyby(~I(api00 > 650), ~awards, boot, svyciprop, method = "%s", vartype = c("se", "ci"))', meth))
}
p <- svyciprop(~yes, jk)
put("jk_ciprop_logit", "", "ci_low", confint(p)[1], "svyciprop(~yes, jk)")
put("jk_ciprop_logit", "", "ci_high", confint(p)[2], "svyciprop(~yes, jk)")
put_ciprop_by("jk_by_stype_ciprop_avged_logit",
              'svyby(~I(avg.ed > 2.5), ~stype, jk, svyciprop, vartype = c("se", "ci"), na.rm = TRUE)')

put_glm("jk_glm_gauss", "svyglm(api00 ~ ell + stype, jk)")
put_glm("jk_glm_quasibinomial", "svyglm(yes ~ ell + meals, jk, family = quasibinomial())")
put_glm("jk_glm_missing", "svyglm(api00 ~ avg.ed + ell, jk)")
put_glm("boot_glm_interaction", "svyglm(api00 ~ ell * awards, boot)")
put_glm("boot_glm_quasipoisson", "svyglm(api.stu ~ ell + meals, boot, family = quasipoisson())")

out <- do.call(rbind, rows)
write.csv(out, "replicate_reference.csv", row.names = FALSE)
cat("wrote", nrow(out), "reference values\n")
