//! The company info pull: the division's `system/Divisions` row, which the run reads at most
//! once for every data type (see `ExactProvider::division_row`), mapped to one record.

use super::super::ExactProvider;
use super::super::pull::Run;
use crate::provider::{DataType, PullError};

impl ExactProvider {
    /// Company info of the run's division, stored under the division code.
    pub(in crate::provider::exact) async fn pull_company_info(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<(), PullError> {
        let row = self.division_row(run).await?;
        let info = super::map_company_info(&row);
        let id = run.division_code().to_string();
        run.push(DataType::CompanyInfo, id, &info).await?;
        run.finish(DataType::CompanyInfo, None).await
    }
}
