# The raked design of the two-wave panel, shared by make_raked_panel.R and make_adjusted_gaps.R:
# strata = municipality, PSU = respondent (nested), each wave raked to its own margins
# (municipality, gender, education; `margins` has variable, wave, category, population).
rake_panel <- function(d, margins) {
  d$wm <- paste(d$wave, d$municipality_code, sep = ":")
  d$wg <- paste(d$wave, d$gender, sep = ":")
  d$we <- paste(d$wave, d$education, sep = ":")
  pop <- function(v, column) {
    m <- margins[margins$variable == v, ]
    out <- data.frame(paste(m$wave, m$category, sep = ":"), m$population)
    names(out) <- c(column, "Freq")
    out
  }
  des <- svydesign(ids = ~respondent_id, strata = ~municipality_code, weights = ~design_weight, data = d, nest = TRUE)
  rake(des, list(~wm, ~wg, ~we), list(pop("municipality_code", "wm"), pop("gender", "wg"), pop("education", "we")),
       control = list(maxit = 200, epsilon = 1e-13))
}
