# Reference numbers from R `survey` for domain degrees of freedom and subset()
# designs (tests/survey/test_domains_r.py). Run from this directory:
#   Rscript make_domain_reference.R
# Reads the API samples written by make_reference.R and writes
# domain_reference.csv (case, term, statistic, value, call): full precision, with
# the R call that produced each number. CI has no R: the tests read the CSV.
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
put_stat <- function(case, est, call, df = NULL) {
  cf <- coef(est); s <- as.numeric(unlist(SE(est)))
  for (i in seq_along(cf)) {
    put(case, names(cf)[i], "estimate", cf[i], call)
    put(case, names(cf)[i], "se", s[i], call)
  }
  if (!is.null(df)) {
    ci <- confint(est, df = df)
    for (i in seq_along(cf)) {
      put(case, names(cf)[i], "ci_low", ci[i, 1], call)
      put(case, names(cf)[i], "ci_high", ci[i, 2], call)
    }
  }
}
put_ciprop_by <- function(case, b, call) {
  # svyby(..., svyciprop, vartype = c("se", "ci")): each domain's interval uses degf(design[domain, ])
  for (i in seq_len(nrow(b))) {
    term <- rownames(b)[i]
    put(case, term, "estimate", b[i, 2], call)
    put(case, term, "se", b$se[i], call)
    put(case, term, "ci_low", b$ci_l[i], call)
    put(case, term, "ci_high", b$ci_u[i], call)
  }
}

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
apiclus1$yes <- as.numeric(apiclus1$sch.wide == "Yes")
dclus1y <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)

# degrees of freedom of every domain: degf(subset(design, domain))
for (k in c("E", "H", "M")) {
  put("dclus1_degf_stype", k, "degf", degf(subset(dclus1, stype == k)),
      sprintf('degf(subset(dclus1, stype == "%s"))', k))
  put("dclus2_degf_stype", k, "degf", degf(subset(dclus2, stype == k)),
      sprintf('degf(subset(dclus2, stype == "%s"))', k))
}
for (k in c("No", "Yes")) {
  put("dstrat_degf_awards", k, "degf", degf(subset(dstrat, awards == k)),
      sprintf('degf(subset(dstrat, awards == "%s"))', k))
}
for (s in c("E", "H", "M")) for (a in c("No", "Yes")) {
  put("dclus1_degf_stype_awards", paste0(s, ".", a), "degf",
      degf(subset(dclus1, stype == s & awards == a)),
      sprintf('degf(subset(dclus1, stype == "%s" & awards == "%s"))', s, a))
}

# domain proportions with intervals on the domain's df, as a user would ask R
for (meth in c("logit", "xlogit", "asin", "beta", "mean")) {
  call <- sprintf('svyby(~yes, ~stype, dclus1y, svyciprop, method = "%s", vartype = c("se", "ci"))', meth)
  put_ciprop_by(paste0("dclus1_by_stype_ciprop_", meth), eval(parse(text = call)), call)
  call <- sprintf('svyby(~I(stype == "E"), ~awards, dstrat, svyciprop, method = "%s", vartype = c("se", "ci"))', meth)
  put_ciprop_by(paste0("dstrat_by_awards_ciprop_E_", meth), eval(parse(text = call)), call)
}
call <- 'svyby(~I(sch.wide == "Yes"), ~stype, dclus2, svyciprop, vartype = c("se", "ci"))'
put_ciprop_by("dclus2_by_stype_ciprop_logit", eval(parse(text = call)), call)

# subset() designs: means, totals, proportions with confint(df = degf(subset))
for (k in c("E", "H", "M")) {
  sub <- subset(dclus1, stype == k)
  put_stat(paste0("dclus1_subset_", k, "_mean_api00"), svymean(~api00, sub),
           sprintf('confint(svymean(~api00, subset(dclus1, stype == "%s")), df = degf(.))', k), degf(sub))
  put_stat(paste0("dclus1_subset_", k, "_total_enroll"), svytotal(~enroll, sub),
           sprintf('confint(svytotal(~enroll, subset(dclus1, stype == "%s")), df = degf(.))', k), degf(sub))
  put_stat(paste0("dclus1_subset_", k, "_mean_avged"), svymean(~avg.ed, sub, na.rm = TRUE),
           sprintf('confint(svymean(~avg.ed, subset(dclus1, stype == "%s"), na.rm = TRUE), df = degf(.))', k),
           degf(sub))
  p <- svyciprop(~I(sch.wide == "Yes"), sub)
  case <- paste0("dclus1_subset_", k, "_ciprop_schwide")
  call <- sprintf('svyciprop(~I(sch.wide == "Yes"), subset(dclus1, stype == "%s"))', k)
  put(case, "Yes", "estimate", coef(p), call)
  put(case, "Yes", "se", SE(p), call)
  put(case, "Yes", "ci_low", confint(p)[1], call)
  put(case, "Yes", "ci_high", confint(p)[2], call)
  put(case, "", "degf", degf(sub), call)
}
sub <- subset(dstrat, awards == "Yes")
put("dstrat_subset_awardsYes", "", "degf", degf(sub), 'degf(subset(dstrat, awards == "Yes"))')
put_stat("dstrat_subset_awardsYes_mean_api00", svymean(~api00, sub),
         'confint(svymean(~api00, subset(dstrat, awards == "Yes")), df = degf(.))', degf(sub))
put_stat("dstrat_subset_awardsYes_by_stype_api00", svyby(~api00, ~stype, sub, svymean),
         'svyby(~api00, ~stype, subset(dstrat, awards == "Yes"), svymean)')
sub2 <- subset(dclus2, stype == "E")
put("dclus2_subset_E", "", "degf", degf(sub2), 'degf(subset(dclus2, stype == "E"))')
put_stat("dclus2_subset_E_mean_api00", svymean(~api00, sub2),
         'confint(svymean(~api00, subset(dclus2, stype == "E")), df = degf(.))', degf(sub2))

# a subset of a calibrated (post-stratified) design
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
dps <- postStratify(dclus1, ~stype, pop.types)
subps <- subset(dps, sch.wide == "Yes")
put("dclus1_ps_subset_schwideYes", "", "degf", degf(subps),
    'degf(subset(postStratify(dclus1, ~stype, pop.types), sch.wide == "Yes"))')
put_stat("dclus1_ps_subset_schwideYes_mean_api00", svymean(~api00, subps),
         'confint(svymean(~api00, subset(dps, sch.wide == "Yes")), df = degf(.))', degf(subps))
put_stat("dclus1_ps_subset_schwideYes_total_enroll", svytotal(~enroll, subps),
         'svytotal(~enroll, subset(dps, sch.wide == "Yes"))')

# profile-likelihood intervals (svyciprop(method = "likelihood")), per domain as svyby gives them
call <- 'svyby(~yes, ~stype, dclus1y, svyciprop, method = "likelihood", vartype = c("se", "ci"))'
put_ciprop_by("dclus1_by_stype_ciprop_likelihood", eval(parse(text = call)), call)
call <- 'svyby(~I(stype == "E"), ~awards, dstrat, svyciprop, method = "likelihood", vartype = c("se", "ci"))'
put_ciprop_by("dstrat_by_awards_ciprop_E_likelihood", eval(parse(text = call)), call)
dpsy <- postStratify(dclus1y, ~stype, pop.types)
call <- 'svyby(~I(api00 > 650), ~awards, dpsy, svyciprop, method = "likelihood", vartype = c("se", "ci"))'
put_ciprop_by("dclus1_ps_by_awards_ciprop_likelihood", eval(parse(text = call)), call)
call <- 'svyby(~I(avg.ed > 2.5), ~stype, dclus1y, svyciprop, method = "likelihood", vartype = c("se", "ci"), na.rm = TRUE)'
put_ciprop_by("dclus1_by_stype_ciprop_avged_likelihood", eval(parse(text = call)), call)
for (lev in c(0.9, 0.99)) {
  p <- svyciprop(~I(stype == "H"), dclus1, method = "likelihood", level = lev)
  case <- paste0("dclus1_ciprop_stypeH_likelihood_", lev * 100)
  call <- sprintf('svyciprop(~I(stype == "H"), dclus1, method = "likelihood", level = %g)', lev)
  put(case, "H", "estimate", coef(p), call)
  put(case, "H", "ci_low", confint(p)[1], call)
  put(case, "H", "ci_high", confint(p)[2], call)
}
p <- svyciprop(~yes, subset(dpsy, stype != "E"), method = "likelihood")
call <- 'svyciprop(~yes, subset(postStratify(dclus1y, ~stype, pop.types), stype != "E"), method = "likelihood")'
put("dclus1_ps_subset_ciprop_likelihood", "yes", "ci_low", confint(p)[1], call)
put("dclus1_ps_subset_ciprop_likelihood", "yes", "ci_high", confint(p)[2], call)

# beta intervals with missing values: n.eff uses nrow(design), missing rows included
call <- 'svyby(~I(avg.ed > 2.5), ~stype, dclus1y, svyciprop, method = "beta", vartype = c("se", "ci"), na.rm = TRUE)'
put_ciprop_by("dclus1_by_stype_ciprop_avged_beta", eval(parse(text = call)), call)
p <- svyciprop(~I(avg.ed > 2.5), dclus1y, method = "beta", na.rm = TRUE)
call <- 'svyciprop(~I(avg.ed > 2.5), dclus1y, method = "beta", na.rm = TRUE)'
put("dclus1_ciprop_avged_beta", "", "ci_low", confint(p)[1], call)
put("dclus1_ciprop_avged_beta", "", "ci_high", confint(p)[2], call)
p <- svyciprop(~I(api00 > 650), dpsy, method = "beta")
call <- 'svyciprop(~I(api00 > 650), postStratify(dclus1y, ~stype, pop.types), method = "beta")'
put("dclus1_ps_ciprop_high_beta", "", "ci_low", confint(p)[1], call)
put("dclus1_ps_ciprop_high_beta", "", "ci_high", confint(p)[2], call)
call <- 'svyby(~I(api00 > 650), ~awards, dpsy, svyciprop, method = "beta", vartype = c("se", "ci"))'
put_ciprop_by("dclus1_ps_by_awards_ciprop_beta", eval(parse(text = call)), call)

# R's FMM spline, which the likelihood interval reads its end points from
x <- c(0, 0.3, 0.7, 1.5, 2.0, 2.2, 3.1)
sp <- spline(x, sin(x) * exp(x / 3))
for (i in c(2, 6, 11, 20)) put("spline_fmm", as.character(i - 1), "y", sp$y[i], "spline(x, sin(x) * exp(x / 3))")

out <- do.call(rbind, rows)
write.csv(out, "domain_reference.csv", row.names = FALSE)
cat("wrote", nrow(out), "reference values\n")
