# Reference numbers from R `survey` for calibrate() (linear/GREG, raking, logit,
# bounds) on the API cluster sample (tests/survey/test_calibration_r.py).
# Run from this directory:
#   Rscript make_calibration_reference.R
# Writes calibration_reference.csv (case, term, statistic, value, call). CI has no R.
suppressMessages(library(survey))
apiclus1 <- read.csv("apiclus1.csv")
apiclus2 <- read.csv("apiclus2.csv")
rows <- list()
put <- function(case, term, statistic, value, call) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, term = term, statistic = statistic,
    value = sprintf("%.15g", as.numeric(value)), call = call, stringsAsFactors = FALSE)
}
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
pop <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
put_cal <- function(case, call) {
  d <- eval(parse(text = call))
  w <- weights(d)
  put(case, "", "weight_sum", sum(w), call)
  put(case, "", "weight_first", w[1], call)
  put(case, "", "weight_min", min(w), call)
  put(case, "", "weight_max", max(w), call)
  m <- svymean(~api00, d)
  put(case, "api00", "estimate", coef(m), call)
  put(case, "api00", "se", SE(m), call)
  t <- svytotal(~enroll, d)
  put(case, "enroll", "estimate", coef(t), call)
  put(case, "enroll", "se", SE(t), call)
  b <- svyby(~api00, ~awards, d, svymean)
  for (k in rownames(b)) {
    put(case, paste0("awards", k), "estimate", b[k, 2], call)
    put(case, paste0("awards", k), "se", b[k, 3], call)
  }
  p <- svyciprop(~I(sch.wide == "Yes"), d)
  put(case, "schwide", "ci_low", confint(p)[1], call)
  put(case, "schwide", "ci_high", confint(p)[2], call)
}
put_cal("linear", "calibrate(dclus1, ~stype + api99, pop)")
put_cal("raking", 'calibrate(dclus1, ~stype + api99, pop, calfun = "raking")')
put_cal("logit", 'calibrate(dclus1, ~stype + api99, pop, calfun = "logit", bounds = c(0.7, 1.7))')
put_cal("linear_bounded", "calibrate(dclus1, ~stype + api99, pop, bounds = c(0.7, 1.7))")
put_cal("linear_interaction", paste0(
  "calibrate(dclus1, ~stype * api99, c(pop, `stypeH:api99` = 755 * 635, `stypeM:api99` = 1018 * 630))"))
# margins (stype, sch.wide) as a formula, the same auxiliaries as rake's margins
popm <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, sch.wideYes = 5122)
put_cal("margins_linear", "calibrate(dclus1, ~stype + sch.wide, popm)")
put_cal("margins_raking", 'calibrate(dclus1, ~stype + sch.wide, popm, calfun = "raking")')
pop2 <- c(`(Intercept)` = 6194, api99 = 3914069)
d2 <- calibrate(dclus2, ~api99, pop2)
call <- "calibrate(dclus2, ~api99, pop2)"
m <- svymean(~api00, d2)
put("two_stage", "api00", "estimate", coef(m), call)
put("two_stage", "api00", "se", SE(m), call)
put("two_stage", "", "weight_sum", sum(weights(d2)), call)

out <- do.call(rbind, rows)
write.csv(out, "calibration_reference.csv", row.names = FALSE)
cat("wrote", nrow(out), "reference values\n")
